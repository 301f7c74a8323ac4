#include "base/file_bytes.h"

#include "base/unique_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel {

namespace {

int read_stream(int fd, std::vector<uint8_t>& out) {
    out.clear();
    uint8_t chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return 0;
        out.insert(out.end(), chunk, chunk + n);
    }
}

} // namespace

int read_fd_bytes(int fd, std::vector<uint8_t>& out) {
    struct stat st {};
    if (fstat(fd, &st) != 0) return errno;
    if (S_ISDIR(st.st_mode)) return EISDIR;
    if (!S_ISREG(st.st_mode) || st.st_size == 0) return read_stream(fd, out);
    out.resize(size_t(st.st_size));
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = pread(fd, out.data() + done, out.size() - done, off_t(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) break;  // the file shrank while being read
        done += size_t(n);
    }
    out.resize(done);
    return 0;
}

int read_file_bytes(const std::string& path, std::vector<uint8_t>& out) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return errno;
    return read_fd_bytes(fd.get(), out);
}

std::optional<std::vector<uint8_t>> read_file_bytes(const std::string& path, FileReadFailure* failure) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    std::vector<uint8_t> bytes;
    int err = fd.get() < 0 ? errno : read_fd_bytes(fd.get(), bytes);
    if (err == 0) return bytes;
    if (failure) *failure = fd.get() < 0 ? FileReadFailure::Open : FileReadFailure::Read;
    errno = err;
    return std::nullopt;
}

} // namespace kestrel
