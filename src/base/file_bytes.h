#pragma once
// A whole file's bytes, read in large chunks (istreambuf_iterator went byte
// by byte, growing the vector as it went: 4 M instructions and 730 KB of
// copies for SeaBIOS's 256 KiB image at every firmware start).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

enum class FileReadFailure { Open, Read };

// nullopt if the file cannot be opened or read (errno tells why; a
// directory fails to read with EISDIR); `failure` says at which step.
std::optional<std::vector<uint8_t>> read_file_bytes(const std::string& path, FileReadFailure* failure = nullptr);

} // namespace kestrel
