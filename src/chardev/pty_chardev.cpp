#include "chardev/pty_chardev.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

namespace kestrel {

namespace {

[[noreturn]] void fail(int err) { throw std::runtime_error(std::string("Failed to create PTY: ") + std::strerror(err)); }

// Raw mode is set on the slave side (the master has no line discipline).
// Opening and closing it once also puts the master in the hung-up state
// that tells "nobody has it open".
void make_slave_raw(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) fail(errno);
    termios tio;
    if (tcgetattr(fd, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(fd, TCSAFLUSH, &tio);
    }
    close(fd);
}

} // namespace

PtyChardev::PtyChardev(std::string label, EventLoop& loop) : StreamChardev(std::move(label), loop) {
    master_fd_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_fd_ < 0) fail(errno);
    char name[128];
    if (grantpt(master_fd_) != 0 || unlockpt(master_fd_) != 0 || ptsname_r(master_fd_, name, sizeof name) != 0) {
        int err = errno;
        close(master_fd_);
        fail(err);
    }
    slave_path_ = name;
    try {
        make_slave_raw(slave_path_);
    } catch (...) {
        close(master_fd_);
        throw;
    }
    std::fprintf(stderr, "char device redirected to %s (label %s)\n", slave_path_.c_str(), this->label().c_str());
    std::fflush(stderr);
    start_polling();
}

PtyChardev::~PtyChardev() {
    stop_polling();
    close(master_fd_);
}

void PtyChardev::start_polling() {
    if (timer_fd_ >= 0) return;
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (timer_fd_ < 0) return;
    itimerspec every{};
    every.it_value.tv_sec = kPollSeconds;
    every.it_interval.tv_sec = kPollSeconds;
    timerfd_settime(timer_fd_, 0, &every, nullptr);
    loop_.add_fd(timer_fd_, EPOLLIN, [this](uint32_t) {
        uint64_t ticks;
        [[maybe_unused]] auto r = ::read(timer_fd_, &ticks, sizeof ticks);
        check_slave();
    });
}

void PtyChardev::stop_polling() {
    if (timer_fd_ < 0) return;
    loop_.remove_fd(timer_fd_);
    close(timer_fd_);
    timer_fd_ = -1;
}

void PtyChardev::check_slave() {
    pollfd pfd{master_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 0) < 0 || (pfd.revents & POLLHUP)) return;
    int fd = fcntl(master_fd_, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return;
    stop_polling();
    connect_fds(fd, fd);  // the connection closes its own duplicate
}

} // namespace kestrel
