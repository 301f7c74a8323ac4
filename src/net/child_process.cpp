#include "net/child_process.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kestrel {

pid_t spawn_keeping_fd(const std::vector<std::string>& argv, int keep_fd) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (keep_fd >= 0) {
        // The descriptor may be close-on-exec on our side.
        int kept = keep_fd > 2 ? keep_fd : dup(keep_fd);
        if (kept > 3) close_range(3, unsigned(kept) - 1, 0);
        close_range(unsigned(kept) + 1, ~0u, 0);
        int flags = fcntl(kept, F_GETFD);
        if (flags >= 0) fcntl(kept, F_SETFD, flags & ~FD_CLOEXEC);
    } else {
        close_range(3, ~0u, 0);
    }
    execv(args[0], args.data());
    _exit(1);
}

int wait_child(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return status;
}

} // namespace kestrel
