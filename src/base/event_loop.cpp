#include "base/event_loop.h"

#include <cerrno>
#include <cstring>
#include <future>
#include <memory>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel {

EventLoop::EventLoop()
    : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!epoll_fd_ || !wake_fd_)
        throw std::runtime_error(std::string("event loop: ") + std::strerror(errno));
    add_fd(wake_fd_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t n;
        while (::read(wake_fd_.get(), &n, sizeof n) > 0) {}
        drain_posted();
    });
}

void EventLoop::add_fd(int fd, uint32_t events, Handler handler) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
        throw std::runtime_error(std::string("epoll add: ") + std::strerror(errno));
    handlers_[fd] = std::make_shared<Handler>(std::move(handler));
}

void EventLoop::modify_fd(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::remove_fd(int fd) {
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
    handlers_.erase(fd);
}

void EventLoop::post(std::function<void()> fn) {
    {
        std::lock_guard guard(posted_lock_);
        posted_.push_back(std::move(fn));
    }
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wake_fd_.get(), &one, sizeof one);
}

void EventLoop::call(const std::function<void()>& fn) {
    if (running_here() || !running_.load()) {
        fn();
        return;
    }
    std::promise<void> done;
    auto finished = done.get_future();
    post([&] {
        fn();
        done.set_value();
    });
    finished.wait();
}

void EventLoop::stop() {
    post([this] { stopping_ = true; });
}

void EventLoop::drain_posted() {
    std::vector<std::function<void()>> work;
    {
        std::lock_guard guard(posted_lock_);
        work.swap(posted_);
    }
    for (auto& fn : work) fn();
}

void EventLoop::run_once(int timeout_ms) {
    epoll_event events[32];
    int n = epoll_wait(epoll_fd_.get(), events, 32, timeout_ms);
    for (int i = 0; i < n; ++i) {
        auto it = handlers_.find(events[i].data.fd);
        if (it == handlers_.end()) continue;
        auto handler = it->second;  // survives remove_fd() inside the handler
        (*handler)(events[i].events);
    }
}

void EventLoop::run() {
    stopping_ = false;
    runner_.store(std::this_thread::get_id());
    running_.store(true);
    while (!stopping_) run_once(-1);
    running_.store(false);
}

} // namespace kestrel
