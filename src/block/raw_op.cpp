#include "block/raw_op.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/falloc.h>

namespace kestrel {

namespace {

constexpr size_t kZeroChunk = 1 << 20;
constexpr size_t kZeroChunksPerWrite = 64;

// Read-only zeros for ZeroFill, aligned for O_DIRECT.
void* zero_buffer() {
    static void* const buffer = [] {
        void* p = std::aligned_alloc(4096, kZeroChunk);
        std::memset(p, 0, kZeroChunk);
        return p;
    }();
    return buffer;
}

// Points req.iov at the zero buffer for the next part of what is left.
void refill_zero_iov(RawOp& op) {
    op.req.iov.clear();
    op.iov_first = 0;
    uint64_t todo = op.left;
    while (todo > 0 && op.req.iov.size() < kZeroChunksPerWrite) {
        size_t len = static_cast<size_t>(std::min<uint64_t>(todo, kZeroChunk));
        op.req.iov.push_back({zero_buffer(), len});
        todo -= len;
    }
}

off_t as_off(uint64_t v) { return static_cast<off_t>(v); }

} // namespace

void prep_raw_op(io_uring_sqe* sqe, RawOp& op) {
    switch (op.step) {
    case RawStep::Transfer:
    case RawStep::ZeroFill: {
        const iovec* iov = op.req.iov.data() + op.iov_first;
        unsigned count = static_cast<unsigned>(std::min<size_t>(op.req.iov.size() - op.iov_first, IOV_MAX));
        if (op.req.op == BlockOp::Read)
            io_uring_prep_readv(sqe, op.fd, iov, count, op.pos);
        else
            io_uring_prep_writev(sqe, op.fd, iov, count, op.pos);
        break;
    }
    case RawStep::Fsync: io_uring_prep_fsync(sqe, op.fd, IORING_FSYNC_DATASYNC); break;
    case RawStep::PunchHole:
        io_uring_prep_fallocate(sqe, op.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, as_off(op.pos),
                                as_off(op.left));
        break;
    case RawStep::ZeroRange:
        io_uring_prep_fallocate(sqe, op.fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, as_off(op.pos),
                                as_off(op.left));
        break;
    }
    io_uring_sqe_set_data(sqe, &op);
}

void advance_raw_op(RawOp& op, uint64_t bytes) {
    bytes = std::min(bytes, op.left);
    op.pos += bytes;
    op.left -= bytes;
    auto& iov = op.req.iov;
    while (bytes > 0 && op.iov_first < iov.size()) {
        iovec& v = iov[op.iov_first];
        uint64_t take = std::min<uint64_t>(bytes, v.iov_len);
        v.iov_base = static_cast<char*>(v.iov_base) + take;
        v.iov_len -= take;
        bytes -= take;
        if (v.iov_len == 0) op.iov_first++;
    }
    while (op.iov_first < iov.size() && iov[op.iov_first].iov_len == 0) op.iov_first++;
    if (op.step == RawStep::ZeroFill && op.iov_first == iov.size() && op.left > 0)
        refill_zero_iov(op);
}

void zero_rest_of_read(RawOp& op) {
    for (size_t i = op.iov_first; i < op.req.iov.size(); i++)
        std::memset(op.req.iov[i].iov_base, 0, op.req.iov[i].iov_len);
    op.iov_first = op.req.iov.size();
    op.pos += op.left;
    op.left = 0;
}

void start_zero_fill(RawOp& op) {
    op.step = RawStep::ZeroFill;
    refill_zero_iov(op);
}

bool raw_op_dio_aligned(const RawOp& op, uint32_t mem_align, uint32_t offset_align) {
    if (op.pos % offset_align != 0) return false;
    for (size_t i = op.iov_first; i < op.req.iov.size(); i++) {
        const iovec& v = op.req.iov[i];
        if (reinterpret_cast<uintptr_t>(v.iov_base) % mem_align != 0 || v.iov_len % offset_align != 0)
            return false;
    }
    return true;
}

} // namespace kestrel
