#include "block/async/aio_context.h"

#include <cerrno>
#include <climits>
#include <poll.h>
#include <stdexcept>

namespace kestrel {

namespace {

void prep(io_uring_sqe* sqe, AioRequest* r, bool in_workers) {
    switch (r->op) {
    case AioOp::Readv:
        io_uring_prep_readv(sqe, r->fd, r->iov, r->iov_count, r->offset);
        break;
    case AioOp::Writev:
        io_uring_prep_writev(sqe, r->fd, r->iov, r->iov_count, r->offset);
        break;
    case AioOp::Fsync: io_uring_prep_fsync(sqe, r->fd, 0); break;
    case AioOp::Fdatasync: io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC); break;
    case AioOp::Fallocate:
        io_uring_prep_fallocate(sqe, r->fd, r->mode, off_t(r->offset), off_t(r->length));
        break;
    }
    if (in_workers && (r->op == AioOp::Readv || r->op == AioOp::Writev)) io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
    io_uring_sqe_set_data(sqe, r);
}

} // namespace

void AioRequest::await_suspend(std::coroutine_handle<> h) {
    waiter = h;
    if (iov_count > IOV_MAX) iov_count = IOV_MAX;  // a short transfer; callers go on from there
    ctx->start(this);
}

AioContext::AioContext(unsigned ring_entries) : ring_(ring_entries), max_in_kernel_(ring_.cq_entries()) {}

void AioContext::start(AioRequest* req) {
    if (waiting_.empty() && give_sqe(req)) return;
    waiting_.push_back(req);
}

bool AioContext::give_sqe(AioRequest* req) {
    if (in_kernel_ >= max_in_kernel_) return false;
    io_uring_sqe* sqe = ring_.get_sqe();
    if (!sqe) {
        ring_.submit();
        unsubmitted_ = 0;
        sqe = ring_.get_sqe();
        if (!sqe) return false;
    }
    prep(sqe, req, run_in_workers_);
    in_kernel_++;
    unsubmitted_++;
    return true;
}

void AioContext::fill_ring() {
    while (!waiting_.empty() && give_sqe(waiting_.front())) waiting_.pop_front();
}

void AioContext::post(std::coroutine_handle<> h) {
    ready_.push_back(h);
    if (!polling_) ring_.signal();
}

void AioContext::kick() {
    fill_ring();
    if (unsubmitted_ == 0) return;
    ring_.submit();
    unsubmitted_ = 0;
}

void AioContext::poll() {
    polling_ = true;
    reaped_.clear();
    ring_.reap(reaped_);
    for (const IoRing::Completion& c : reaped_) {
        auto* req = reinterpret_cast<AioRequest*>(c.user_data);
        in_kernel_--;
        if (c.result == -EAGAIN || c.result == -EINTR) {  // try again, as the raw backend does
            start(req);
            continue;
        }
        req->result = c.result;
        req->waiter.resume();
    }
    // Tasks posted while we ran go on now; ones they post in turn too.
    while (!ready_.empty()) {
        std::coroutine_handle<> h = ready_.front();
        ready_.pop_front();
        h.resume();
    }
    polling_ = false;
    kick();
}

void AioContext::run_until(const bool& done) {
    kick();
    while (!done) {
        if (ready_.empty() && in_kernel_ == 0 && waiting_.empty())
            throw std::logic_error("AioContext::run_until: the task waits for nothing");
        if (ready_.empty()) {
            pollfd p{ring_.event_fd(), POLLIN, 0};
            ::poll(&p, 1, -1);
        }
        poll();
    }
}

} // namespace kestrel
