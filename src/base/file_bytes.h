#pragma once
// A whole file's bytes, read in large chunks (istreambuf_iterator went byte
// by byte, growing the vector as it went: 4 M instructions and 730 KB of
// copies for SeaBIOS's 256 KiB image at every firmware start).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

// All of an open file into `out`: a regular file by its size (what it
// still holds if it shrank meanwhile), pipes and /proc files to their end.
// 0 or an errno value (EISDIR for a directory).
int read_fd_bytes(int fd, std::vector<uint8_t>& out);

// The same for a path. 0 or an errno value.
int read_file_bytes(const std::string& path, std::vector<uint8_t>& out);

enum class FileReadFailure { Open, Read };

// nullopt if the file cannot be opened or read (errno tells why);
// `failure` says at which step.
std::optional<std::vector<uint8_t>> read_file_bytes(const std::string& path, FileReadFailure* failure = nullptr);

} // namespace kestrel
