#include "chardev/file_chardev.h"

#include "base/fd_sets.h"
#include "base/unique_fd.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>

namespace kestrel {

namespace {
UniqueFd open_output_file(const std::string& path, bool append) {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    UniqueFd fd(is_fdset_path(path) ? dup_from_fdset(path, flags) : UniqueFd(::open(path.c_str(), flags, 0666)));
    if (!fd)
        throw std::runtime_error("Could not open '" + path + "': " + std::strerror(errno));
    return fd;
}
} // namespace

FileChardev::FileChardev(std::string label, EventLoop& loop, const std::string& path, bool append)
    : FdChardev(std::move(label), loop, UniqueFd(), open_output_file(path, append)) {}

} // namespace kestrel
