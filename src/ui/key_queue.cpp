#include "ui/key_queue.h"

#include <chrono>
#include <pthread.h>

namespace kestrel {

KeyQueue::~KeyQueue() {
    {
        std::lock_guard guard(lock_);
        stopping_ = true;
        cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
}

void KeyQueue::push(const InputEvent& event, int delay_ms) {
    std::lock_guard guard(lock_);
    items_.push_back({event, delay_ms});
    if (!thread_.joinable())
        thread_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "input-keys");
            run();
        });
    cv_.notify_all();
}

void KeyQueue::run() {
    std::unique_lock guard(lock_);
    while (true) {
        cv_.wait(guard, [&] { return stopping_ || !items_.empty(); });
        if (stopping_) return;
        Item item = items_.front();
        items_.pop_front();
        guard.unlock();
        input_.send({item.event});
        guard.lock();
        cv_.wait_for(guard, std::chrono::milliseconds(item.delay_ms), [&] { return stopping_; });
    }
}

} // namespace kestrel
