#pragma once
// A file named on the command line, read whole; failures worded as glib's
// g_file_get_contents words them, which QEMU passes on after its own prefix.
#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {

// Throws ConfigError "PREFIX: Failed to open file “PATH”: why" or
// "PREFIX: Error reading file “PATH”: why" (a directory fails here).
std::vector<uint8_t> read_file_contents(const std::string& path, const std::string& prefix);

} // namespace kestrel
