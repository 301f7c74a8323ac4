#include "block/raw_backend.h"
#include "base/monotonic_clock.h"

#include <cerrno>

namespace kestrel {

namespace {

constexpr unsigned kRingEntries = 256;

using Outcome = BlockOutcome;

bool modifies_image(BlockOp op) {
    return op == BlockOp::Write || op == BlockOp::Discard || op == BlockOp::WriteZeroes;
}

bool unsupported(int res) { return res == -EOPNOTSUPP || res == -ENOTSUP || res == -EINVAL; }

bool retry_later(int res) { return res == -EAGAIN || res == -EINTR; }

uint64_t iov_bytes(const std::vector<iovec>& iov) {
    uint64_t total = 0;
    for (const iovec& v : iov) total += v.iov_len;
    return total;
}

} // namespace

RawBackend::RawBackend(RawBackendSetup setup)
    : setup_(std::move(setup)), ring_(kRingEntries), max_in_kernel_(ring_.cq_entries()) {}

RawBackend::~RawBackend() {
    while (in_kernel_ > 0) {
        if (unsubmitted_ > 0) {
            ring_.submit();
            unsubmitted_ = 0;
        }
        ring_.wait_one();
        reaped_.clear();
        ring_.reap(reaped_);
        for (const auto& c : reaped_) {
            delete reinterpret_cast<RawOp*>(c.user_data);
            in_kernel_--;
        }
    }
}

bool RawBackend::has_volatile_cache() const {
    return setup_.cache != CacheMode::Writethrough && setup_.cache != CacheMode::Directsync;
}

void RawBackend::submit(BlockRequest request) {
    auto op = std::make_unique<RawOp>();
    op->req = std::move(request);
    op->start_ns = monotonic_ns();
    if (!prepare(*op)) {
        ring_.signal();  // its callback runs from process_completions()
        ready_.push_back(std::move(op));
        return;
    }
    enqueue(std::move(op));
}

// Sets the op's first step; false when its result is known already (kept
// in op.result).
bool RawBackend::prepare(RawOp& op) const {
    BlockRequest& req = op.req;
    if (req.op == BlockOp::Read || req.op == BlockOp::Write) req.length = iov_bytes(req.iov);
    op.pos = req.offset;
    op.left = req.length;
    auto known = [&](int64_t result, Outcome outcome) {
        op.result = result;
        op.outcome = outcome;
        return false;
    };
    if (modifies_image(req.op) && setup_.read_only) return known(-EBADF, Outcome::Failed);
    if (req.op != BlockOp::Flush &&
        (req.offset > setup_.image.size || req.length > setup_.image.size - req.offset))
        return known(-EIO, Outcome::Invalid);

    op.fd = setup_.image.fd.get();
    switch (req.op) {
    case BlockOp::Read:
    case BlockOp::Write:
        if (req.length == 0) return known(0, Outcome::Done);
        op.step = RawStep::Transfer;
        op.fd = fd_for_transfer(op);
        return true;
    case BlockOp::Flush:
        if (setup_.cache == CacheMode::Unsafe) return known(0, Outcome::Done);
        op.step = RawStep::Fsync;
        return true;
    case BlockOp::Discard:
        if (!setup_.discard_unmap || req.length == 0) return known(0, Outcome::Done);  // discard=ignore
        op.step = RawStep::PunchHole;
        return true;
    case BlockOp::WriteZeroes:
        if (req.length == 0) return known(0, Outcome::Done);
        op.step = req.may_unmap && setup_.discard_unmap ? RawStep::PunchHole : RawStep::ZeroRange;
        return true;
    }
    return known(-EINVAL, Outcome::Failed);
}

int RawBackend::fd_for_transfer(const RawOp& op) const {
    const ImageFile& image = setup_.image;
    if (image.buffered_fd && !raw_op_dio_aligned(op, image.dio_mem_align, image.dio_offset_align))
        return image.buffered_fd.get();
    return image.fd.get();
}

void RawBackend::enqueue(std::unique_ptr<RawOp> op) {
    if (waiting_.empty() && give_sqe(*op)) {
        op.release();  // owned by the kernel until its completion
        return;
    }
    waiting_.push_back(std::move(op));
}

bool RawBackend::give_sqe(RawOp& op) {
    if (in_kernel_ >= max_in_kernel_) return false;
    io_uring_sqe* sqe = ring_.get_sqe();
    if (!sqe) return false;
    prep_raw_op(sqe, op);
    in_kernel_++;
    unsubmitted_++;
    return true;
}

void RawBackend::fill_ring() {
    while (!waiting_.empty() && give_sqe(*waiting_.front())) {
        waiting_.front().release();
        waiting_.pop_front();
    }
}

void RawBackend::kick() {
    fill_ring();
    if (unsubmitted_ == 0) return;
    ring_.submit();
    unsubmitted_ = 0;
}

// The op's next step reuses the slot it holds; if the submission queue is
// full of prepared entries they go to the kernel first.
void RawBackend::resubmit(RawOp* op) {
    io_uring_sqe* sqe = ring_.get_sqe();
    if (!sqe) {
        ring_.submit();
        unsubmitted_ = 0;
        sqe = ring_.get_sqe();
    }
    if (!sqe) {
        in_kernel_--;
        waiting_.emplace_front(op);
        return;
    }
    prep_raw_op(sqe, *op);
    unsubmitted_++;
}

void RawBackend::process_completions() {
    reaped_.clear();
    ring_.reap(reaped_);
    std::vector<std::unique_ptr<RawOp>> finished = std::move(ready_);
    ready_.clear();
    for (const auto& c : reaped_) {
        auto* op = reinterpret_cast<RawOp*>(c.user_data);
        if (!handle_result(*op, c.result)) {
            resubmit(op);
            continue;
        }
        in_kernel_--;
        finished.emplace_back(op);
    }
    kick();
    // Callbacks last: they may submit() and kick() again.
    for (auto& op : finished) finish(std::move(op));
}

// Moves the op on after a completion; true when it is finished (result in
// op.result).
bool RawBackend::handle_result(RawOp& op, int res) {
    auto done = [&](int64_t result) {
        op.result = result;
        op.outcome = result < 0 ? Outcome::Failed : Outcome::Done;
        return true;
    };
    if (retry_later(res)) return false;
    switch (op.step) {
    case RawStep::Transfer:
    case RawStep::ZeroFill:
        if (res == -EINVAL && setup_.image.buffered_fd && op.fd != setup_.image.buffered_fd.get()) {
            op.fd = setup_.image.buffered_fd.get();  // O_DIRECT refused this one
            return false;
        }
        if (res < 0) return done(res);
        if (res == 0 && op.req.op != BlockOp::Read) return done(-ENOSPC);
        if (res == 0) zero_rest_of_read(op);  // the file shrank under us
        advance_raw_op(op, static_cast<uint64_t>(res));
        if (op.left > 0) return false;
        return done(op.req.op == BlockOp::WriteZeroes ? 0 : static_cast<int64_t>(op.req.length));
    case RawStep::Fsync: return done(res);
    case RawStep::PunchHole:
        if (res == 0 || op.req.op == BlockOp::Discard)  // unsupported discard succeeds, as in QEMU
            return done(res == 0 || unsupported(res) ? 0 : res);
        if (!unsupported(res)) return done(res);
        op.step = RawStep::ZeroRange;
        return false;
    case RawStep::ZeroRange:
        if (res == 0 || !unsupported(res)) return done(res);
        start_zero_fill(op);
        op.fd = fd_for_transfer(op);
        return false;
    }
    return done(-EINVAL);
}

void RawBackend::finish(std::unique_ptr<RawOp> op) {
    const BlockRequest& req = op->req;
    stats_.record({req.op, op->outcome, req.offset, req.length,
                   op->start_ns, monotonic_ns()});
    auto callback = std::move(op->req.done);
    int64_t result = op->result;
    op.reset();
    if (callback) callback(result);
}

} // namespace kestrel
