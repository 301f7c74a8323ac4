#pragma once
// Waiting between tasks of one AioContext: a queue of waiters woken
// together, a mutex, and when_all for tasks that run side by side. Wake-ups
// go through AioContext::post, so a woken task runs from the next poll and
// never inside the waker.
#include "block/async/aio_context.h"

#include <memory>
#include <vector>

namespace kestrel {

class WaitQueue {
public:
    struct Awaiter {
        WaitQueue* queue;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) { queue->waiters_.push_back(h); }
        void await_resume() const noexcept {}
    };
    // co_await queue.wait(): until the next wake_all().
    Awaiter wait() { return {this}; }
    void wake_all(AioContext& ctx) {
        std::vector<std::coroutine_handle<>> woken = std::move(waiters_);
        waiters_.clear();
        for (auto h : woken) ctx.post(h);
    }
    bool empty() const { return waiters_.empty(); }

private:
    std::vector<std::coroutine_handle<>> waiters_;
};

// Held across co_awaits; unlock() hands it straight to the next waiter.
class CoMutex {
public:
    struct Awaiter {
        CoMutex* m;
        bool await_ready() noexcept {
            if (m->locked_) return false;
            m->locked_ = true;
            return true;
        }
        void await_suspend(std::coroutine_handle<> h) { m->waiters_.push_back(h); }
        void await_resume() const noexcept {}
    };
    Awaiter lock() { return {this}; }
    void unlock(AioContext& ctx) {
        if (waiters_.empty()) {
            locked_ = false;
            return;
        }
        std::coroutine_handle<> next = waiters_.front();
        waiters_.erase(waiters_.begin());
        ctx.post(next);  // stays locked: ownership passes to `next`
    }
    bool locked() const { return locked_; }

private:
    bool locked_ = false;
    std::vector<std::coroutine_handle<>> waiters_;
};

// Runs every task at once; the result is the first negative result, else 0.
Task<int> when_all(AioContext& ctx, std::vector<Task<int>> tasks);

} // namespace kestrel
