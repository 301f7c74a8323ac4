#include "block/snapshot_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <vector>

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

bool all_zero(const char* p, size_t n) {
    return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

// Copies [offset, end) with read/write, leaving all-zero blocks as holes.
void copy_by_reading(int from, int to, uint64_t offset, uint64_t end, const std::string& path) {
    std::vector<char> buf(1 << 20);
    while (offset < end) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - offset));
        ssize_t got = pread(from, buf.data(), want, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail(path, "read", errno);
        if (got == 0) return;  // shorter than its size: the rest reads as zeros
        for (ssize_t done = 0; done < got;) {
            size_t block = std::min<size_t>(4096, static_cast<size_t>(got - done));
            const char* p = buf.data() + done;
            if (!all_zero(p, block) &&
                pwrite(to, p, block, static_cast<off_t>(offset + done)) != static_cast<ssize_t>(block))
                fail(path, "write", errno ? errno : EIO);
            done += static_cast<ssize_t>(block);
        }
        offset += static_cast<uint64_t>(got);
    }
}

void copy_range(int from, int to, uint64_t offset, uint64_t end, const std::string& path) {
    while (offset < end) {
        loff_t in = static_cast<loff_t>(offset), out = in;
        ssize_t n = copy_file_range(from, &in, to, &out, static_cast<size_t>(end - offset), 0);
        if (n > 0) {
            offset += static_cast<uint64_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return copy_by_reading(from, to, offset, end, path);
    }
}

// Walks the data extents; a file system or device without SEEK_DATA is one
// extent.
void copy_data_extents(int from, int to, uint64_t size, const std::string& path) {
    uint64_t pos = 0;
    while (pos < size) {
        off_t data = lseek(from, static_cast<off_t>(pos), SEEK_DATA);
        if (data < 0 && errno == ENXIO) return;  // only a hole is left
        if (data < 0) return copy_range(from, to, pos, size, path);
        off_t hole = lseek(from, data, SEEK_HOLE);
        uint64_t end = hole < 0 ? size : std::min<uint64_t>(static_cast<uint64_t>(hole), size);
        copy_range(from, to, static_cast<uint64_t>(data), end, path);
        pos = end;
    }
}

} // namespace

UniqueFd make_snapshot_copy(int base_fd, uint64_t size, const std::string& path) {
    UniqueFd copy = create_unlinked_temp(path);
    bool cloned = ioctl(copy.get(), FICLONE, base_fd) == 0;
    if (ftruncate(copy.get(), static_cast<off_t>(size)) != 0) fail(path, "resize", errno);
    if (!cloned) copy_data_extents(base_fd, copy.get(), size, path);
    return copy;
}

} // namespace kestrel
