#include "block/image/image_backend.h"
#include "base/monotonic_clock.h"

#include "block/async/iov.h"
#include "block/image/image_open.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>
#include <poll.h>
#include <spdlog/spdlog.h>

namespace kestrel {

namespace {

bool modifies_image(BlockOp op) {
    return op == BlockOp::Write || op == BlockOp::Discard || op == BlockOp::WriteZeroes;
}

} // namespace

ImageBackend::ImageBackend(std::unique_ptr<AioContext> ctx, std::unique_ptr<AsyncImage> image, std::string path,
                           CacheMode cache)
    : ctx_(std::move(ctx)), image_(std::move(image)), path_(std::move(path)), cache_(cache) {}

ImageBackend::~ImageBackend() {
    while (active_ > 0) {
        pollfd p{ctx_->event_fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        ctx_->poll();
    }
    finished_.clear();
    try {
        int r = ctx_->run(image_->close());
        if (r < 0) spdlog::error("{}: could not write back image metadata: {}", path_, std::strerror(-r));
    } catch (const std::exception& e) {
        spdlog::error("{}: {}", path_, e.what());
    }
}

BlockBackend::ImageSummary ImageBackend::summary() const {
    ImageSummary s;
    s.format = image_->format_name();
    if (auto* q = dynamic_cast<const Qcow2Image*>(image_.get())) {
        s.cluster_size = q->geometry().cluster_size();
        s.backing_file = q->header().backing_file;
        s.full_backing_file = q->backing() ? q->backing()->filename() : "";
        s.backing_format = q->header().backing_format;
        s.qcow2_version = q->header().version;
        s.refcount_bits = q->header().refcount_bits();
        s.lazy_refcounts = q->header().lazy_refcounts();
        s.corrupt = q->header().corrupt() || q->corrupt();
    }
    for (AsyncImage* b = image_->backing(); b; b = b->backing()) s.backing_depth++;
    return s;
}

bool ImageBackend::has_volatile_cache() const {
    return cache_ != CacheMode::Writethrough && cache_ != CacheMode::Directsync;
}

void ImageBackend::submit(BlockRequest request) {
    std::lock_guard guard(lock_);
    const uint64_t start = monotonic_ns();
    if (request.op == BlockOp::Read || request.op == BlockOp::Write) request.length = iov_size(request.iov);
    if (request.op != BlockOp::Flush &&
        (request.offset > size() || request.length > size() - request.offset)) {
        finish(std::move(request), -EIO, start, BlockOutcome::Invalid);
        return;
    }
    if (modifies_image(request.op) && read_only()) {
        finish(std::move(request), -EBADF, start, BlockOutcome::Failed);
        return;
    }
    active_++;
    auto owned = std::make_shared<BlockRequest>(std::move(request));
    spawn(run(*owned), [this, owned, start](int result) {
        active_--;
        finish(std::move(*owned), result, start, result < 0 ? BlockOutcome::Failed : BlockOutcome::Done);
    });
}

Task<int> ImageBackend::run(BlockRequest& r) {
    switch (r.op) {
    case BlockOp::Read: co_return co_await image_->read(r.offset, r.iov);
    case BlockOp::Write: co_return co_await image_->write(r.offset, r.iov);
    case BlockOp::Flush: co_return co_await image_->flush();
    case BlockOp::Discard: co_return co_await image_->discard(r.offset, r.length);
    case BlockOp::WriteZeroes: co_return co_await image_->write_zeroes(r.offset, r.length, r.may_unmap);
    }
    co_return -EINVAL;
}

// Callbacks run from process_completions(); this may be inside submit().
void ImageBackend::finish(BlockRequest request, int result, uint64_t start_ns, BlockOutcome outcome) {
    int64_t value = result < 0 ? result : (request.op == BlockOp::Read || request.op == BlockOp::Write)
                                              ? int64_t(request.length)
                                              : 0;
    finished_.push_back({std::move(request), value, outcome, start_ns});
    if (!polling_) ctx_->notify();  // inside poll() the caller runs them next anyway
}

void ImageBackend::kick() {
    std::lock_guard guard(lock_);
    ctx_->kick();
}

void ImageBackend::process_completions() {
    std::vector<Finished> done;
    {
        std::lock_guard guard(lock_);
        polling_ = true;
        ctx_->poll();
        polling_ = false;
        done = std::move(finished_);
        finished_.clear();
    }
    for (Finished& f : done) {
        const BlockRequest& req = f.request;
        stats_.record({req.op, f.outcome, req.offset, req.length, f.start_ns, monotonic_ns()});
        auto callback = std::move(f.request.done);
        if (callback) callback(f.result);
    }
}

// What the top layer holds (data or zeros) goes into the base.
Task<int> ImageBackend::copy_into(AsyncImage& top, AsyncImage& base) {
    constexpr uint64_t kStep = 2u << 20;
    std::vector<uint8_t> buf(kStep);
    const uint64_t end = std::min(top.size(), base.size());
    for (uint64_t off = 0; off < end;) {
        BlockStatus st = co_await top.block_status(off, std::min(kStep, end - off));
        if (st.length == 0) co_return -EIO;
        int r = 0;
        if (st.kind == BlockStatus::Zero) {
            r = co_await base.write_zeroes(off, st.length, false);
        } else if (st.kind == BlockStatus::Data) {
            std::vector<iovec> iov{{buf.data(), size_t(st.length)}};
            r = co_await top.read(off, iov);
            if (r == 0) r = co_await base.write(off, iov);
        }
        if (r < 0) co_return r;
        off += st.length;
    }
    co_return co_await base.flush();
}

int ImageBackend::commit() {
    std::lock_guard guard(lock_);
    while (active_ > 0) {  // the guest's requests in flight end first
        pollfd p{ctx_->event_fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        ctx_->poll();
    }
    auto* top = dynamic_cast<Qcow2Image*>(image_.get());
    if (!top || !top->backing()) return -ENOTSUP;
    AsyncImage* base = top->backing();
    ImageOpenOptions o;
    o.path = base->filename();
    o.format = base->format_name();
    o.lock = false;  // our own read-only open of it holds its locks
    try {
        o.read_only = false;
        std::unique_ptr<AsyncImage> writable = open_image(*ctx_, o);
        if (writable->size() < top->size()) return -ENOSPC;
        int r = ctx_->run(copy_into(*top, *writable));
        if (r == 0) r = ctx_->run(writable->close());
        if (r < 0) return r;
        writable.reset();
        // A fresh read-only view of the base: the old one's caches are stale.
        o.read_only = true;
        o.lock = true;
        o.snapshot_base = true;
        top->set_backing(open_image(*ctx_, o));
    } catch (const std::exception& e) {
        spdlog::error("{}: commit: {}", path_, e.what());
        return -EIO;
    }
    return ctx_->run(top->make_empty());
}

} // namespace kestrel
