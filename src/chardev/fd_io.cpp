#include "chardev/fd_io.h"

#include "base/unique_fd.h"

#include <cerrno>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace kestrel {

bool write_all_fd(int fd, std::span<const uint8_t> data) {
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n > 0) {
            p += n;
            left -= size_t(n);
            continue;
        }
        if (n == 0) {
            errno = EIO;
            return false;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
        pollfd pfd{fd, POLLOUT, 0};
        while (::poll(&pfd, 1, -1) < 0 && errno == EINTR) {}
    }
    return true;
}

bool fd_supports_epoll(int fd) {
    UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
    if (!ep) return true;  // cannot tell; let the real registration report
    epoll_event ev{};
    ev.events = EPOLLIN;
    return epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool fd_readable_now(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    int n;
    while ((n = ::poll(&pfd, 1, 0)) < 0 && errno == EINTR) {}
    return n > 0;
}

} // namespace kestrel
