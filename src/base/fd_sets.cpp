#include "base/fd_sets.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace kestrel {

namespace {
constexpr const char kFdSetPrefix[] = "/dev/fdset/";
}

std::map<int64_t, FdSet>& fd_sets() {
    static std::map<int64_t, FdSet> sets;
    return sets;
}

void add_command_line_fds(const std::vector<AddFdConfig>& fds) {
    for (const AddFdConfig& a : fds) {
        UniqueFd copy(fcntl(a.fd, F_DUPFD_CLOEXEC, 0));
        if (copy) fd_sets()[a.set].fds.push_back({std::move(copy), a.opaque});
    }
    for (const AddFdConfig& a : fds) close(a.fd);
}

namespace {
// A copy of `fd` that behaves as open(path, flags) would have: the status
// flags open() takes (O_APPEND, O_NONBLOCK, ...) set, and the file
// truncated where open() would truncate it — as QEMU treats a set's fd.
UniqueFd as_if_opened(int fd, int flags) {
    UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!copy || fcntl(copy.get(), F_SETFL, flags) == -1) return UniqueFd();
    bool truncates = (flags & O_TRUNC) || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    if (truncates && ftruncate(copy.get(), 0) == -1) return UniqueFd();
    return copy;
}
} // namespace

bool is_fdset_path(const std::string& path) { return path.rfind(kFdSetPrefix, 0) == 0; }

UniqueFd dup_from_fdset(const std::string& path, int flags) {
    std::string id = path.substr(sizeof kFdSetPrefix - 1);
    bool numeric = !id.empty() && id.size() < 19 && id.find_first_not_of("0123456789") == std::string::npos;
    auto set = numeric ? fd_sets().find(std::stoll(id)) : fd_sets().end();
    if (set == fd_sets().end()) {
        errno = ENOENT;
        return UniqueFd();
    }
    for (const FdSet::Entry& e : set->second.fds) {
        int mode = fcntl(e.fd.get(), F_GETFL);
        if (mode != -1 && (mode & O_ACCMODE) == (flags & O_ACCMODE)) return as_if_opened(e.fd.get(), flags);
    }
    errno = EACCES;
    return UniqueFd();
}

} // namespace kestrel
