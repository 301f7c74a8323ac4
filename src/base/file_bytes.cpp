#include "base/file_bytes.h"

#include "base/unique_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel {

namespace {
std::optional<std::vector<uint8_t>> fail(FileReadFailure* failure, FileReadFailure step, int err) {
    if (failure) *failure = step;
    errno = err;
    return std::nullopt;
}
} // namespace

std::optional<std::vector<uint8_t>> read_file_bytes(const std::string& path, FileReadFailure* failure) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return fail(failure, FileReadFailure::Open, errno);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return fail(failure, FileReadFailure::Read, errno);
    if (S_ISDIR(st.st_mode)) return fail(failure, FileReadFailure::Read, EISDIR);
    // The size is a hint: /proc files say 0, and a file may change meanwhile.
    constexpr size_t CHUNK = 64 * 1024;
    std::vector<uint8_t> bytes(S_ISREG(st.st_mode) && st.st_size > 0 ? size_t(st.st_size) + 1 : CHUNK);
    size_t used = 0;
    for (;;) {
        if (used == bytes.size()) bytes.resize(bytes.size() + CHUNK);
        ssize_t n = ::read(fd.get(), bytes.data() + used, bytes.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(failure, FileReadFailure::Read, errno);
        if (n == 0) break;
        used += size_t(n);
    }
    bytes.resize(used);
    return bytes;
}

} // namespace kestrel
