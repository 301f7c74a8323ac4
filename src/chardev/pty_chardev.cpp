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
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!fd) fail(errno);
    termios tio;
    if (tcgetattr(fd.get(), &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(fd.get(), TCSAFLUSH, &tio);
    }
}

} // namespace

PtyChardev::PtyChardev(std::string label, EventLoop& loop) : StreamChardev(std::move(label), loop) {
    master_fd_.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master_fd_) fail(errno);
    int master = master_fd_.get();
    char name[128];
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, sizeof name) != 0) fail(errno);
    slave_path_ = name;
    make_slave_raw(slave_path_);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);  // early output never blocks
    std::fprintf(stderr, "char device redirected to %s (label %s)\n", slave_path_.c_str(), this->label().c_str());
    std::fflush(stderr);
    start_polling();
}

// The master is closed after this, before the connection's duplicate.
PtyChardev::~PtyChardev() { stop_polling(); }

void PtyChardev::start_polling() {
    if (timer_fd_) return;
    timer_fd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!timer_fd_) return;
    itimerspec every{};
    every.it_value.tv_sec = kPollSeconds;
    every.it_interval.tv_sec = kPollSeconds;
    timerfd_settime(timer_fd_.get(), 0, &every, nullptr);
    loop_.add_fd(timer_fd_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t ticks;
        [[maybe_unused]] auto r = ::read(timer_fd_.get(), &ticks, sizeof ticks);
        check_slave();
    });
}

void PtyChardev::stop_polling() {
    if (!timer_fd_) return;
    loop_.remove_fd(timer_fd_.get());
    timer_fd_.reset();
}

bool PtyChardev::slave_open() const {
    pollfd pfd{master_fd_.get(), POLLIN, 0};
    return ::poll(&pfd, 1, 0) >= 0 && !(pfd.revents & POLLHUP);
}

void PtyChardev::write(std::span<const uint8_t> data) {
    if (connected() || data.empty() || !slave_open()) return StreamChardev::write(data);
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(master_fd_.get(), data.data() + done, data.size() - done);
        if (n <= 0) break;  // full (nobody reads yet): the rest is dropped
        done += size_t(n);
    }
    if (check_posted_.exchange(true)) return;
    std::weak_ptr<int> alive = alive_;
    loop_.post([this, alive] {
        if (alive.expired()) return;
        check_posted_ = false;
        if (!connected()) check_slave();
    });
}

void PtyChardev::check_slave() {
    if (!slave_open()) return;
    UniqueFd fd(fcntl(master_fd_.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd) return;
    stop_polling();
    connect_fd(std::move(fd));  // the connection closes its own duplicate
}

} // namespace kestrel
