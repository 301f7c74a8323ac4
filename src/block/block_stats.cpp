#include "block/block_stats.h"

#include <algorithm>
#include <ctime>

namespace kestrel {

namespace {

struct Counters {
    uint64_t* operations;
    uint64_t* bytes;  // nullptr: flush
    uint64_t* failed;
    uint64_t* invalid;
    uint64_t* total_time_ns;
};

Counters counters_for(BlockOp op, BlockBackend::Stats& s) {
    switch (op) {
    case BlockOp::Read:
        return {&s.rd_operations, &s.rd_bytes, &s.failed_rd_operations, &s.invalid_rd_operations,
                &s.rd_total_time_ns};
    case BlockOp::Write:
    case BlockOp::WriteZeroes:
        return {&s.wr_operations, &s.wr_bytes, &s.failed_wr_operations, &s.invalid_wr_operations,
                &s.wr_total_time_ns};
    case BlockOp::Discard:
        return {&s.unmap_operations, &s.unmap_bytes, &s.failed_unmap_operations,
                &s.invalid_unmap_operations, &s.unmap_total_time_ns};
    case BlockOp::Flush: break;
    }
    return {&s.flush_operations, nullptr, &s.failed_flush_operations, &s.invalid_flush_operations,
            &s.flush_total_time_ns};
}

} // namespace

void BlockStatsRecorder::record(const Sample& sample) {
    std::lock_guard guard(lock_);
    Counters c = counters_for(sample.op, stats_);
    stats_.last_completion_ns = sample.end_ns;
    switch (sample.outcome) {
    case BlockOutcome::Invalid: ++*c.invalid; return;
    case BlockOutcome::Failed:  // timed like QEMU's account-failed=on
        ++*c.failed;
        *c.total_time_ns += sample.end_ns - sample.start_ns;
        return;
    case BlockOutcome::Done:
        ++*c.operations;
        if (c.bytes) *c.bytes += sample.bytes;
        *c.total_time_ns += sample.end_ns - sample.start_ns;
        if (sample.op == BlockOp::Write || sample.op == BlockOp::WriteZeroes)
            stats_.wr_highest_offset = std::max(stats_.wr_highest_offset, sample.offset + sample.bytes);
        return;
    }
}

BlockBackend::Stats BlockStatsRecorder::stats() const {
    std::lock_guard guard(lock_);
    return stats_;
}

} // namespace kestrel
