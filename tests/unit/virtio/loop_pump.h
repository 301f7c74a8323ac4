#pragma once
// The test's side of a device served on an event loop the test pumps:
// running what is ready, kicking a queue's eventfd, waiting for timers.
#include "base/event_loop.h"

#include <chrono>
#include <cstdint>
#include <unistd.h>

namespace kestrel::test {

inline void pump(EventLoop& loop) {
    for (int i = 0; i < 8; ++i) loop.run_once(0);
}

// A driver's notification (the eventfd the transport's ioeventfd writes), then a pump.
inline void kick(EventLoop& loop, int notify_fd) {
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(notify_fd, &one, sizeof one);
    pump(loop);
}

// Pumps until `done` holds, for up to `seconds` (timers, not fixed waits).
template <typename F> bool pump_until(EventLoop& loop, F done, int seconds = 20) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        loop.run_once(50);
    }
    return true;
}

} // namespace kestrel::test
