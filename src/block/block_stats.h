#pragma once
// Counters behind query-blockstats, updated by the backend's owner thread
// and read from the monitor's.
#include "block/block_backend.h"

#include <cstdint>
#include <mutex>

namespace kestrel {

// How a request ended: Invalid ones (past the end) never reached the host.
enum class BlockOutcome { Done, Failed, Invalid };

class BlockStatsRecorder {
public:
    struct Sample {
        BlockOp op;
        BlockOutcome outcome;
        uint64_t offset, bytes;
        uint64_t start_ns, end_ns;
    };
    void record(const Sample& sample);
    BlockBackend::Stats stats() const;

private:
    mutable std::mutex lock_;
    BlockBackend::Stats stats_;
};

} // namespace kestrel
