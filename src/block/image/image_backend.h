#pragma once
// A BlockBackend over an AsyncImage (qcow2 and its chain): every request is
// a task on the backend's AioContext; the device's queue thread drives it
// through completion_fd()/process_completions(). Done callbacks run from
// process_completions() only, even for requests answered without I/O.
//
// commit() comes from the monitor's thread: it takes the backend's lock
// (the queue thread waits at its next call), lets the guest's requests in
// flight finish (their callbacks still run on the queue thread later) and
// runs the commit on the same AioContext.
#include "block/block_backend.h"
#include "block/block_stats.h"
#include "block/image/async_image.h"

#include <memory>
#include <mutex>
#include <vector>

namespace kestrel {

class ImageBackend final : public BlockBackend {
public:
    // `image` runs on `ctx`; both are owned. `temporary_overlay`: the image
    // is snapshot=on's throw-away overlay (already unlinked).
    ImageBackend(std::unique_ptr<AioContext> ctx, std::unique_ptr<AsyncImage> image, std::string path,
                 CacheMode cache);
    // Waits for the requests in flight, then writes back the image's
    // metadata.
    ~ImageBackend() override;

    uint64_t size() const override { return image_->size(); }
    bool read_only() const override { return image_->read_only(); }
    bool has_volatile_cache() const override;
    uint32_t logical_block_size() const override { return 512; }
    const std::string& path() const override { return path_; }

    void submit(BlockRequest request) override;
    void kick() override;
    int completion_fd() const override { return ctx_->event_fd(); }
    void process_completions() override;
    Stats stats() const override { return stats_.stats(); }
    ImageSummary summary() const override;

    AsyncImage& image() { return *image_; }
    AioContext& context() { return *ctx_; }
    int commit() override;

private:
    struct Finished {
        BlockRequest request;
        int64_t result;
        BlockOutcome outcome;
        uint64_t start_ns;
    };
    Task<int> run(BlockRequest& request);
    Task<int> copy_into(AsyncImage& top, AsyncImage& base);
    void finish(BlockRequest request, int result, uint64_t start_ns, BlockOutcome outcome);

    std::mutex lock_;  // queue thread vs commit() from the monitor
    std::unique_ptr<AioContext> ctx_;
    std::unique_ptr<AsyncImage> image_;
    std::string path_;
    CacheMode cache_;
    unsigned active_ = 0;
    bool polling_ = false;  // inside process_completions()
    std::vector<Finished> finished_;
    BlockStatsRecorder stats_;
};

} // namespace kestrel
