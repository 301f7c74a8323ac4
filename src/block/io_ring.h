#pragma once
// One io_uring instance with an eventfd that becomes readable when
// completions are posted. Owned and used by one thread at a time.
#include "base/unique_fd.h"

#include <cstdint>
#include <liburing.h>
#include <vector>

namespace kestrel {

class IoRing {
public:
    // sq_entries submissions may wait in the ring; the completion queue
    // holds twice as many.
    explicit IoRing(unsigned sq_entries);
    ~IoRing();
    IoRing(const IoRing&) = delete;
    IoRing& operator=(const IoRing&) = delete;

    unsigned cq_entries() const { return ring_.cq.ring_entries; }
    int event_fd() const { return event_fd_.get(); }

    // A free submission slot, or nullptr when the submission queue is full.
    io_uring_sqe* get_sqe() { return io_uring_get_sqe(&ring_); }
    // Hands everything prepared to the kernel with one system call.
    void submit();

    struct Completion {
        uint64_t user_data;
        int32_t result;
    };
    // Clears the eventfd, then moves every posted completion into out.
    void reap(std::vector<Completion>& out);
    // Blocks until one completion is posted (teardown only).
    void wait_one();
    // Makes event_fd() readable without a completion (for results known
    // at submit time, which must still arrive through process_completions).
    void signal();

private:
    io_uring ring_{};
    UniqueFd event_fd_;
};

} // namespace kestrel
