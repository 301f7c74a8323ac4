#pragma once
// The main thread's epoll loop: monitors, chardevs, timers and slow devices.
// Handlers run on the loop thread. post() is the one thread-safe entry: other
// threads (vCPUs) use it to hand work to the loop.
#include "base/unique_fd.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kestrel {

class EventLoop {
public:
    using Handler = std::function<void(uint32_t epoll_events)>;

    EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Loop thread only (or before run()).
    void add_fd(int fd, uint32_t epoll_events, Handler handler);
    void modify_fd(int fd, uint32_t epoll_events);
    void remove_fd(int fd);

    // Any thread.
    void post(std::function<void()> fn);
    // Runs `fn` on the loop's thread and returns once it has run; at once
    // when called there or while no thread runs the loop (before run(), or
    // after it returned). Not while another thread stops the loop.
    void call(const std::function<void()>& fn);
    void stop();
    // Whether the caller is the thread that runs (or last ran) run(): a
    // device that waits for work it posts must not wait on its own loop.
    bool running_here() const { return runner_.load() == std::this_thread::get_id(); }

    // Runs until stop(). Returns when stopped.
    void run();
    // One round: waits up to timeout_ms (-1 forever) and dispatches.
    void run_once(int timeout_ms);

private:
    void drain_posted();

    bool stopping_ = false;
    std::atomic<std::thread::id> runner_{};
    std::atomic<bool> running_{false};
    std::map<int, std::shared_ptr<Handler>> handlers_;
    std::mutex posted_lock_;
    std::vector<std::function<void()>> posted_;
    // Declared last, so closed first (wake, then epoll) when the loop goes.
    UniqueFd epoll_fd_;
    UniqueFd wake_fd_;
};

} // namespace kestrel
