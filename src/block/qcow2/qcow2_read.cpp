// Reading: a request is cut into runs of clusters that read alike (host
// data contiguous in the file, zeros, the backing file, compressed
// clusters), which then run side by side.
#include "block/async/buffer.h"
#include "block/async/iov.h"
#include "block/qcow2/qcow2_compress.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>

namespace kestrel {

using namespace qcow2;

namespace {

// Host data of consecutive clusters continues where the last one ended.
bool continues(const L2Entry& prev, const L2Entry& next, uint64_t cluster_size) {
    if (prev.kind != next.kind) return false;
    if (prev.kind == ClusterKind::Normal) return next.host_offset == prev.host_offset + cluster_size;
    return prev.kind != ClusterKind::Compressed;
}

} // namespace

Task<int> Qcow2Image::read(uint64_t offset, std::vector<iovec> iov) {
    const uint64_t len = iov_size(iov);
    if (offset > size() || len > size() - offset) co_return -EIO;
    std::vector<Task<int>> parts;
    uint64_t done = 0;
    while (done < len) {
        uint64_t pos = offset + done;
        L2Table* t = nullptr;
        int r = co_await get_l2(g_.l1_index(pos), &t);
        if (r < 0) {
            co_await when_all(ctx_, std::move(parts));
            co_return r;
        }
        // Synchronous from here: t stays valid.
        uint64_t span_end = std::min(offset + len, (g_.l1_index(pos) + 1) * g_.l2_span());
        while (pos < span_end) {
            uint64_t first_entry = t ? t->entries[g_.l2_index(pos)] : 0;
            L2Entry first = decode_l2(first_entry, g_);
            uint64_t run_end = std::min(span_end, g_.cluster_floor(pos) + g_.cluster_size());
            L2Entry prev = first;
            while (run_end < span_end && first.kind != ClusterKind::Compressed) {
                L2Entry next = decode_l2(t ? t->entries[g_.l2_index(run_end)] : 0, g_);
                if (!continues(prev, next, g_.cluster_size())) break;
                prev = next;
                run_end = std::min(span_end, run_end + g_.cluster_size());
            }
            parts.push_back(read_cluster_range(first_entry, pos, iov_slice(iov, pos - offset, run_end - pos)));
            pos = run_end;
        }
        done = pos - offset;
    }
    co_return co_await when_all(ctx_, std::move(parts));
}

// Guest bytes from `guest` on, as the L2 entry of their first cluster says
// (later clusters of a run continue it).
Task<int> Qcow2Image::read_cluster_range(uint64_t entry, uint64_t guest, std::vector<iovec> iov) {
    // (if/else, not switch: GCC 12 mishandles co_await in switch cases)
    const L2Entry e = decode_l2(entry, g_);
    if (e.kind == ClusterKind::Normal) {
        if (g_.offset_in_cluster(e.host_offset)) {
            mark_corrupt("Cluster allocation offset " + std::to_string(e.host_offset) + " unaligned");
            co_return -EIO;
        }
        co_return co_await file_read(ctx_, io(), e.host_offset + g_.offset_in_cluster(guest), std::move(iov));
    }
    if (e.kind == ClusterKind::Unallocated) co_return co_await read_backing(guest, std::move(iov));
    if (e.kind == ClusterKind::Compressed)
        co_return co_await read_compressed(e, g_.offset_in_cluster(guest), std::move(iov));
    iov_zero(iov);  // Zero, ZeroAlloc
    co_return 0;
}

// The backing file's bytes; past its end (a larger overlay), zeros.
Task<int> Qcow2Image::read_backing(uint64_t guest, std::vector<iovec> iov) {
    uint64_t len = iov_size(iov);
    uint64_t backing_size = backing_ ? backing_->size() : 0;
    uint64_t from_backing = guest < backing_size ? std::min(len, backing_size - guest) : 0;
    if (from_backing < len) iov_zero(iov_slice(iov, from_backing, len - from_backing));
    if (from_backing == 0) co_return 0;
    co_return co_await backing_->read(guest, iov_slice(iov, 0, from_backing));
}

Task<int> Qcow2Image::read_compressed(L2Entry e, uint64_t in_cluster, std::vector<iovec> iov) {
    if (e.compressed_bytes > 2 * g_.cluster_size() + 512) co_return -EIO;
    Buffer packed(e.compressed_bytes);
    AsyncFile buffered = io();
    if (buffered.buffered_fd >= 0) buffered.fd = buffered.buffered_fd;  // not sector aligned
    int r = co_await file_read_buf(ctx_, buffered, e.host_offset, packed.data(), packed.size());
    if (r < 0) co_return r;
    Buffer cluster(g_.cluster_size());
    if (!decompress_cluster(header_.compression_type, packed.span(), cluster.span())) {
        mark_corrupt("compressed cluster at " + std::to_string(e.host_offset) + " does not decompress");
        co_return -EIO;
    }
    iov_from_buf(iov, cluster.data() + in_cluster, size_t(g_.cluster_size() - in_cluster));
    co_return 0;
}

Task<BlockStatus> Qcow2Image::block_status(uint64_t offset, uint64_t max_length) {
    BlockStatus st;
    max_length = std::min(max_length, size() - std::min(size(), offset));
    L2Table* t = nullptr;
    int r = co_await get_l2(g_.l1_index(offset), &t);
    if (r < 0) {
        st.kind = BlockStatus::Data;  // unknown: say data, so copies copy it
        st.length = std::min(max_length, g_.cluster_size() - g_.offset_in_cluster(offset));
        co_return st;
    }
    uint64_t end = std::min(offset + max_length, (g_.l1_index(offset) + 1) * g_.l2_span());
    L2Entry first = decode_l2(t ? t->entries[g_.l2_index(offset)] : 0, g_);
    uint64_t pos = std::min(end, g_.cluster_floor(offset) + g_.cluster_size());
    L2Entry prev = first;
    while (pos < end && first.kind != ClusterKind::Compressed) {
        L2Entry next = decode_l2(t ? t->entries[g_.l2_index(pos)] : 0, g_);
        bool same = next.kind == first.kind || (first.kind == ClusterKind::Zero && next.kind == ClusterKind::Zero);
        if (!same || (first.kind == ClusterKind::Normal && next.host_offset != prev.host_offset + g_.cluster_size()))
            break;
        if (first.kind == ClusterKind::ZeroAlloc && next.host_offset != prev.host_offset + g_.cluster_size()) break;
        prev = next;
        pos = std::min(end, pos + g_.cluster_size());
    }
    st.length = pos - offset;
    switch (first.kind) {
    case ClusterKind::Unallocated: st.kind = BlockStatus::Unallocated; break;
    case ClusterKind::Zero: st.kind = BlockStatus::Zero; break;
    case ClusterKind::ZeroAlloc:
        st.kind = BlockStatus::Zero;
        st.has_offset = true;
        st.host_offset = first.host_offset + g_.offset_in_cluster(offset);
        break;
    case ClusterKind::Normal:
        st.kind = BlockStatus::Data;
        st.has_offset = true;
        st.host_offset = first.host_offset + g_.offset_in_cluster(offset);
        break;
    case ClusterKind::Compressed:
        st.kind = BlockStatus::Data;
        st.compressed = true;
        break;
    }
    co_return st;
}

} // namespace kestrel
