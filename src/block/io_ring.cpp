#include "block/io_ring.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel {

IoRing::IoRing(unsigned sq_entries) {
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = sq_entries * 2;
    int ret = io_uring_queue_init_params(sq_entries, &ring_, &params);
    if (ret < 0)
        throw std::runtime_error(std::string("Could not set up io_uring: ") + std::strerror(-ret));
    event_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!event_fd_ || (ret = io_uring_register_eventfd(&ring_, event_fd_.get())) < 0) {
        int err = !event_fd_ ? errno : -ret;
        event_fd_.reset();
        io_uring_queue_exit(&ring_);
        throw std::runtime_error(std::string("Could not set up io_uring: ") + std::strerror(err));
    }
}

// The ring goes first; event_fd_ is closed after it.
IoRing::~IoRing() { io_uring_queue_exit(&ring_); }

void IoRing::submit() {
    // EINTR/EAGAIN/EBUSY leave the entries in the ring; the next submit
    // (every completion batch submits) hands them over.
    int ret;
    do {
        ret = io_uring_submit(&ring_);
    } while (ret == -EINTR);
}

void IoRing::reap(std::vector<Completion>& out) {
    uint64_t count;
    while (::read(event_fd_.get(), &count, sizeof count) > 0) {}
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
        out.push_back({cqe->user_data, cqe->res});
        seen++;
    }
    io_uring_cq_advance(&ring_, seen);
}

void IoRing::wait_one() {
    io_uring_cqe* cqe = nullptr;
    int ret;
    do {
        ret = io_uring_wait_cqe(&ring_, &cqe);
    } while (ret == -EINTR);
}

void IoRing::signal() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(event_fd_.get(), &one, sizeof one);
}

} // namespace kestrel
