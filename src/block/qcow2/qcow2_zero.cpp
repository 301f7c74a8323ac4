// WRITE_ZEROES and discard: whole clusters become zero clusters (v3) or
// unallocated ones, freeing what they held; partial clusters are written
// with zeros (write zeroes) or left alone (discard, which is advisory).
#include "block/async/iov.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>

namespace kestrel {

using namespace qcow2;

Task<int> Qcow2Image::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) {
    if (read_only_) co_return -EBADF;
    if (corrupt_) co_return -EIO;
    if (offset > size() || length > size() - offset) co_return -EIO;
    may_unmap = may_unmap && discard_unmap_;  // as QEMU: only with discard=unmap
    const uint64_t end = offset + length;
    // A v2 image over a backing file cannot say "zeros" in its L2 table.
    if (header_.version < 3 && backing_) co_return co_await write_zeroes_slow(offset, length);
    uint64_t first = g_.cluster_ceil(offset);
    uint64_t last = end == size() ? g_.cluster_ceil(end) : g_.cluster_floor(end);
    if (first >= last) co_return co_await write_zeroes_slow(offset, length);
    int r = 0;
    if (offset < first) r = co_await write_zeroes_slow(offset, first - offset);
    if (r == 0) r = co_await zero_clusters(first >> g_.cluster_bits, (last - first) >> g_.cluster_bits, may_unmap, false);
    if (r == 0 && last < end) r = co_await write_zeroes_slow(last, end - last);
    if (r == 0 && ((needs_writeback_ && !writeback_lock_.locked()) || durable_writes())) r = co_await writeback();
    co_return r;
}

Task<int> Qcow2Image::discard(uint64_t offset, uint64_t length) {
    if (read_only_) co_return -EBADF;
    if (!discard_unmap_ || corrupt_) co_return 0;
    if (offset > size() || length > size() - offset) co_return -EIO;
    const uint64_t end = offset + length;
    uint64_t first = g_.cluster_ceil(offset);
    uint64_t last = end == size() ? g_.cluster_ceil(end) : g_.cluster_floor(end);
    if (first >= last) co_return 0;
    int r = co_await zero_clusters(first >> g_.cluster_bits, (last - first) >> g_.cluster_bits, true, true);
    if (r == 0 && ((needs_writeback_ && !writeback_lock_.locked()) || durable_writes())) r = co_await writeback();
    co_return r;
}

// Zeros written as data, cluster by cluster, skipping clusters that read
// as zeros already.
Task<int> Qcow2Image::write_zeroes_slow(uint64_t offset, uint64_t length) {
    const uint64_t end = offset + length;
    while (offset < end) {
        uint64_t n = std::min(end, g_.cluster_floor(offset) + g_.cluster_size()) - offset;
        L2Table* t = nullptr;
        int r = co_await get_l2(g_.l1_index(offset), &t);
        if (r < 0) co_return r;
        uint64_t entry = t ? t->entries[g_.l2_index(offset)] : 0;
        if (!reads_as_zero(entry, offset) || cluster_busy(offset >> g_.cluster_bits)) {
            std::vector<iovec> zeros;
            append_zero_iov(zeros, n);
            r = co_await write(offset, std::move(zeros));
            if (r < 0) co_return r;
        }
        offset += n;
    }
    co_return 0;
}

// What a whole cluster's entry becomes. Discard: zeros over a backing file
// or an allocation (v3), else the entry as it is. Write zeroes: the zero
// flag, keeping the host cluster unless unmapping is allowed (or it is not
// this image's own).
uint64_t Qcow2Image::zeroed_entry(uint64_t old, bool unmap, bool discard) const {
    L2Entry d = decode_l2(old, g_);
    bool allocated = d.kind == ClusterKind::Normal || d.kind == ClusterKind::ZeroAlloc ||
                     d.kind == ClusterKind::Compressed;
    if (header_.version < 3) return (discard && !allocated) ? old : 0;
    if (discard) return (backing_ || allocated) ? kZeroFlag : old;
    if (!unmap && (d.kind == ClusterKind::Normal || d.kind == ClusterKind::ZeroAlloc) && d.copied)
        return d.host_offset | kCopied | kZeroFlag;
    return kZeroFlag;
}

Task<int> Qcow2Image::zero_clusters(uint64_t first_cluster, uint64_t count, bool unmap, bool discard) {
    uint64_t c = first_cluster;
    const uint64_t end = first_cluster + count;
    while (c < end) {
        const uint64_t guest = c << g_.cluster_bits;
        const uint64_t l1_index = g_.l1_index(guest);
        const uint64_t span_end = std::min(end, (l1_index + 1) << g_.l2_bits());
        bool waited = false;
        for (uint64_t i = c; i < span_end && !waited; i++) {
            if (!cluster_busy(i)) continue;
            co_await wait_busy(i);
            waited = true;
        }
        if (waited) continue;
        L2Table* t = nullptr;
        int r = co_await get_l2(l1_index, &t);
        if (r < 0) co_return r;
        bool any_busy = false;
        for (uint64_t i = c; i < span_end; i++) any_busy |= cluster_busy(i);
        if (any_busy) continue;
        bool changes = false;
        for (uint64_t i = c; i < span_end && !changes; i++) {
            uint64_t old = t ? t->entries[g_.l2_index(i << g_.cluster_bits)] : 0;
            changes = zeroed_entry(old, unmap, discard) != old;
        }
        if (!changes) {
            c = span_end;
            continue;
        }
        r = co_await get_l2_for_write(l1_index, &t);
        if (r < 0) co_return r;
        any_busy = false;
        for (uint64_t i = c; i < span_end; i++) any_busy |= cluster_busy(i);
        if (any_busy) continue;
        for (uint64_t i = c; i < span_end; i++) {
            uint64_t& e = t->entries[g_.l2_index(i << g_.cluster_bits)];
            uint64_t next = zeroed_entry(e, unmap, discard);
            if (next == e) continue;
            if ((next & kOffsetMask) != (e & kOffsetMask) || decode_l2(e, g_).kind == ClusterKind::Compressed)
                release_entry(e);
            e = next;
        }
        mark_dirty(l1_[l1_index] & kOffsetMask, t);
        c = span_end;
    }
    co_return 0;
}

} // namespace kestrel
