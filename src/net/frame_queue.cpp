#include "net/frame_queue.h"

#include <cstring>
#include <stdexcept>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel {

size_t copy_to_iov(std::span<const uint8_t> data, std::span<const iovec> out) {
    size_t done = 0;
    for (const iovec& v : out) {
        if (done == data.size()) break;
        size_t n = std::min(v.iov_len, data.size() - done);
        std::memcpy(v.iov_base, data.data() + done, n);
        done += n;
    }
    return done;
}

std::vector<uint8_t> gather(std::span<const iovec> in) {
    size_t total = 0;
    for (const iovec& v : in) total += v.iov_len;
    std::vector<uint8_t> out(total);
    size_t at = 0;
    for (const iovec& v : in) {
        std::memcpy(out.data() + at, v.iov_base, v.iov_len);
        at += v.iov_len;
    }
    return out;
}

FrameQueue::FrameQueue(size_t max_frames)
    : event_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), max_frames_(max_frames) {
    if (!event_) throw std::runtime_error("eventfd failed");
}

bool FrameQueue::push(std::span<const iovec> frame) {
    std::vector<uint8_t> copy = gather(frame);
    std::lock_guard guard(lock_);
    if (frames_.size() >= max_frames_) return false;
    frames_.push_back(std::move(copy));
    // The event stays readable until the queue is empty again, so only the
    // first frame of a burst needs the write (one syscall per burst).
    if (frames_.size() == 1) {
        uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(event_.get(), &one, sizeof one);
    }
    return true;
}

bool FrameQueue::push(std::span<const uint8_t> frame) {
    iovec v{const_cast<uint8_t*>(frame.data()), frame.size()};
    return push(std::span<const iovec>(&v, 1));
}

void FrameQueue::drain_event_locked() {
    uint64_t count;
    [[maybe_unused]] auto r = ::read(event_.get(), &count, sizeof count);
}

size_t FrameQueue::pop(std::span<const iovec> out) {
    std::vector<uint8_t> frame;
    {
        std::lock_guard guard(lock_);
        if (frames_.empty()) {
            drain_event_locked();
            return 0;
        }
        frame = std::move(frames_.front());
        frames_.pop_front();
        if (frames_.empty()) drain_event_locked();
    }
    copy_to_iov(frame, out);
    return frame.size();
}

size_t FrameQueue::size() const {
    std::lock_guard guard(lock_);
    return frames_.size();
}

void FrameQueue::clear() {
    std::lock_guard guard(lock_);
    frames_.clear();
    drain_event_locked();
}

} // namespace kestrel
