#include "block/image/image_backend.h"

#include "block/async/iov.h"

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

bool ImageBackend::has_volatile_cache() const {
    return cache_ != CacheMode::Writethrough && cache_ != CacheMode::Directsync;
}

void ImageBackend::submit(BlockRequest request) {
    const uint64_t start = block_clock_ns();
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
    ctx_->notify();
}

void ImageBackend::process_completions() {
    ctx_->poll();
    std::vector<Finished> done = std::move(finished_);
    finished_.clear();
    for (Finished& f : done) {
        const BlockRequest& req = f.request;
        stats_.record({req.op, f.outcome, req.offset, req.length, f.start_ns, block_clock_ns()});
        auto callback = std::move(f.request.done);
        if (callback) callback(f.result);
    }
}

} // namespace kestrel
