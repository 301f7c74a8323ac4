#pragma once
// Frames handed from one thread to another: a bounded FIFO with an eventfd
// that is readable while frames wait (for epoll, level-triggered). Hubs and
// user networking deliver frames to a NIC's thread through one. Any thread.
#include "base/unique_fd.h"

#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <sys/uio.h>
#include <vector>

namespace kestrel {

class FrameQueue {
public:
    explicit FrameQueue(size_t max_frames = 1024);

    int fd() const { return event_.get(); }
    // Copies the frame in; false (dropped) when the queue is full.
    bool push(std::span<const iovec> frame);
    bool push(std::span<const uint8_t> frame);
    // Copies the oldest frame into `out` (cut short if longer) and returns
    // its full length; 0 when empty.
    size_t pop(std::span<const iovec> out);
    size_t size() const;
    bool empty() const { return size() == 0; }
    void clear();

private:
    void drain_event_locked();

    UniqueFd event_;
    size_t max_frames_;
    mutable std::mutex lock_;
    std::deque<std::vector<uint8_t>> frames_;
};

// Copies `data` into `out`, as far as it goes; returns the bytes copied.
size_t copy_to_iov(std::span<const uint8_t> data, std::span<const iovec> out);
// Gathers `in` into one buffer.
std::vector<uint8_t> gather(std::span<const iovec> in);

} // namespace kestrel
