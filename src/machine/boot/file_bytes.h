#pragma once
// Whole-file reads for boot images (kernel, initrd), kept in memory so a
// machine reset can reload them without touching the file system.
#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {

// Reads all of `path` into `out`. Returns 0 or an errno value.
int read_file_bytes(const std::string& path, std::vector<uint8_t>& out);

} // namespace kestrel
