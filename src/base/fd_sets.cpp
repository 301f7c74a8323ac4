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
        if (mode != -1 && (mode & O_ACCMODE) == (flags & O_ACCMODE)) return UniqueFd(fcntl(e.fd.get(), F_DUPFD_CLOEXEC, 0));
    }
    errno = EACCES;
    return UniqueFd();
}

} // namespace kestrel
