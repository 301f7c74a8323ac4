#pragma once
// One request of the raw backend while the kernel works on it: which
// system call it is at (a WriteZeroes may go from ZERO_RANGE to writing
// zeros), where it has got to after short transfers, and which fd it uses.
#include "block/block_backend.h"
#include "block/block_stats.h"

#include <cstddef>
#include <cstdint>
#include <liburing.h>

namespace kestrel {

enum class RawStep {
    Transfer,   // readv/writev of req.iov
    Fsync,      // fdatasync
    PunchHole,  // fallocate(PUNCH_HOLE | KEEP_SIZE)
    ZeroRange,  // fallocate(ZERO_RANGE | KEEP_SIZE)
    ZeroFill,   // writev of a shared zero buffer
};

struct RawOp {
    BlockRequest req;
    RawStep step = RawStep::Transfer;
    int fd = -1;
    size_t iov_first = 0;  // first iovec not fully transferred
    uint64_t pos = 0;      // file offset of the next byte
    uint64_t left = 0;     // bytes still to transfer
    uint64_t start_ns = 0;
    int64_t result = 0;  // once finished: what the callback gets
    BlockOutcome outcome = BlockOutcome::Done;
};

// Fills sqe for the op's current step and position.
void prep_raw_op(io_uring_sqe* sqe, RawOp& op);

// Accounts for `bytes` transferred: moves pos/left and the iovecs on.
void advance_raw_op(RawOp& op, uint64_t bytes);

// Read hit the end of the file: the rest of the buffers read as zeros.
void zero_rest_of_read(RawOp& op);

// Switches to writing zeros for what is left (ZERO_RANGE unsupported).
void start_zero_fill(RawOp& op);

// Whether a Transfer meets O_DIRECT's memory and offset alignment.
bool raw_op_dio_aligned(const RawOp& op, uint32_t mem_align, uint32_t offset_align);

} // namespace kestrel
