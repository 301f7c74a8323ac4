#pragma once
// What QEMU prints when a -drive without format= is opened and probing
// finds a raw image (three lines, no program prefix, on stderr). The
// opener prints it for a DriveConfig whose format is empty.
#include <string>

namespace kestrel {

std::string image_probe_warning(const std::string& file);

} // namespace kestrel
