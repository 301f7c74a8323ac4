#include "machine/boot/file_bytes.h"

#include "base/unique_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel {
namespace {

int read_fd(int fd, std::vector<uint8_t>& out) {
    struct stat st {};
    if (fstat(fd, &st) != 0) return errno;
    if (S_ISDIR(st.st_mode)) return EISDIR;
    out.resize(size_t(st.st_size));
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = pread(fd, out.data() + done, out.size() - done, off_t(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) break;  // file shrank while reading
        done += size_t(n);
    }
    out.resize(done);
    return 0;
}

} // namespace

int read_file_bytes(const std::string& path, std::vector<uint8_t>& out) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno;
    return read_fd(fd.get(), out);
}

} // namespace kestrel
