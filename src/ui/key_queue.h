#pragma once
// Key presses that must be spread over time (sendkey's hold time): a queue
// served by a thread of its own, started on first use, so a monitor never
// waits for a key to be released.
#include "ui/input.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace kestrel {

class KeyQueue {
public:
    explicit KeyQueue(InputService& input) : input_(input) {}
    ~KeyQueue();
    KeyQueue(const KeyQueue&) = delete;
    KeyQueue& operator=(const KeyQueue&) = delete;

    // Sends `event`, then waits `delay_ms` before the next queued one.
    void push(const InputEvent& event, int delay_ms);

private:
    void run();
    struct Item {
        InputEvent event;
        int delay_ms;
    };
    InputService& input_;
    std::mutex lock_;
    std::condition_variable cv_;
    std::deque<Item> items_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace kestrel
