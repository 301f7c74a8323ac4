#include "config/file_contents.h"

#include "base/file_bytes.h"
#include "base/config_error.h"

#include <cerrno>
#include <cstring>

namespace kestrel {

std::vector<uint8_t> read_file_contents(const std::string& path, const std::string& prefix) {
    FileReadFailure failure{};
    auto data = read_file_bytes(path, &failure);
    if (!data)
        throw ConfigError(prefix + ": " +
                          (failure == FileReadFailure::Open ? "Failed to open file “" : "Error reading file “") + path +
                          "”: " + std::strerror(errno));
    return std::move(*data);
}

} // namespace kestrel
