#pragma once
// A raw image served through io_uring: one ring per backend, driven by the
// thread that owns the backend (see BlockBackend). Requests beyond what the
// ring can hold wait in a queue and go out as completions free room.
#include "block/block_backend.h"
#include "block/block_stats.h"
#include "block/image_file.h"
#include "block/io_ring.h"
#include "block/raw_op.h"
#include "base/unique_fd.h"

#include <deque>
#include <memory>
#include <vector>

namespace kestrel {

struct RawBackendSetup {
    std::string path;
    ImageFile image;
    bool read_only = false;
    CacheMode cache = CacheMode::Writeback;
    bool discard_unmap = false;
};

class RawBackend final : public BlockBackend {
public:
    explicit RawBackend(RawBackendSetup setup);
    // Waits for requests still in the kernel; their callbacks do not run.
    ~RawBackend() override;

    uint64_t size() const override { return setup_.image.size; }
    bool read_only() const override { return setup_.read_only; }
    bool has_volatile_cache() const override;
    uint32_t logical_block_size() const override { return setup_.image.logical_block_size; }
    const std::string& path() const override { return setup_.path; }

    void submit(BlockRequest request) override;
    void kick() override;
    int completion_fd() const override { return ring_.event_fd(); }
    void process_completions() override;
    Stats stats() const override { return stats_.stats(); }

private:
    // Sets the op's first step; false when its result is already known.
    bool prepare(RawOp& op) const;
    int fd_for_transfer(const RawOp& op) const;
    void enqueue(std::unique_ptr<RawOp> op);
    bool give_sqe(RawOp& op);
    void fill_ring();
    void resubmit(RawOp* op);
    // After a completion: true when the op is finished (op.result set).
    bool handle_result(RawOp& op, int res);
    void finish(std::unique_ptr<RawOp> op);

    RawBackendSetup setup_;
    IoRing ring_;
    unsigned max_in_kernel_;
    unsigned in_kernel_ = 0;          // ops owning an SQE or a pending CQE
    unsigned unsubmitted_ = 0;        // SQEs prepared since the last submit
    std::deque<std::unique_ptr<RawOp>> waiting_;  // not yet given an SQE
    std::vector<std::unique_ptr<RawOp>> ready_;   // finished without the kernel
    std::vector<IoRing::Completion> reaped_;
    BlockStatsRecorder stats_;
};

} // namespace kestrel
