#include "block/snapshot_file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace kestrel {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
    throw std::runtime_error("Could not create temporary snapshot of '" + path + "': " + what +
                             ": " + std::strerror(err));
}

std::string temp_dir() {
    const char* dir = std::getenv("TMPDIR");
    return dir && *dir ? dir : "/var/tmp";
}

} // namespace

UniqueFd create_unlinked_temp(const std::string& path) {
    std::string dir = temp_dir();
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return UniqueFd(fd);
    std::string name = dir + "/kestrel-snapshot-XXXXXX";
    fd = mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) fail(path, "in " + dir, errno);
    ::unlink(name.c_str());
    return UniqueFd(fd);
}

} // namespace kestrel
