// Writing: in place where the cluster is this image's own, else into new
// clusters from the end of the file. A request is cut into steps (a run of
// clusters written in place, or a run allocated together) that run side by
// side, as reads do: a write across clusters scattered in the file costs
// one round trip, not one per run. New clusters have never been written
// (they lie past everything the image used when it was opened), so they
// read as zeros already: the copy-on-write of the rest of a cluster only
// writes what is not zero (backing file data, an old cluster's data).
#include "block/async/buffer.h"
#include "block/async/iov.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>

namespace kestrel {

using namespace qcow2;

uint64_t Qcow2Image::allocate_clusters(uint64_t count) {
    uint64_t first = next_cluster_;
    next_cluster_ += count;
    for (uint64_t i = 0; i < count; i++) add_delta(first + i, 1);
    return first << g_.cluster_bits;
}

void Qcow2Image::release_entry(uint64_t entry) {
    L2Entry d = decode_l2(entry, g_);
    if (d.kind == ClusterKind::Compressed) {
        auto [first, count] = compressed_host_clusters(d, g_);
        for (uint64_t c = 0; c < count; c++) add_delta(first + c, -1);
    } else if (d.host_offset) {
        add_delta(d.host_offset >> g_.cluster_bits, -1);
    }
}

void Qcow2Image::set_busy(uint64_t first, uint64_t count) {
    for (uint64_t c = first; c < first + count; c++) busy_.emplace(c, std::make_unique<WaitQueue>());
}

void Qcow2Image::clear_busy(uint64_t first, uint64_t count) {
    for (uint64_t c = first; c < first + count; c++) {
        auto it = busy_.find(c);
        if (it == busy_.end()) continue;
        it->second->wake_all(ctx_);
        busy_.erase(it);
    }
}

Task<void> Qcow2Image::wait_busy(uint64_t guest_cluster) {
    auto it = busy_.find(guest_cluster);
    if (it != busy_.end()) co_await it->second->wait();
}

Task<int> Qcow2Image::write(uint64_t offset, std::vector<iovec> iov) {
    if (read_only_) co_return -EBADF;
    if (corrupt_) co_return -EIO;
    const uint64_t len = iov_size(iov);
    if (offset > size() || len > size() - offset) co_return -EIO;
    std::vector<Task<int>> parts;
    uint64_t done = 0;
    int r = 0;
    while (done < len && r == 0) {
        int64_t n = co_await plan_write_step(offset + done, iov, done, len - done, parts);
        if (n > 0) {
            done += uint64_t(n);
            continue;
        }
        if (n < 0) {
            r = int(n);
            break;
        }
        // Another request is allocating the next cluster: finish what this
        // one planned (so it holds no cluster while it waits), then wait.
        r = co_await when_all(ctx_, std::move(parts));
        parts.clear();
        if (r == 0) co_await wait_busy((offset + done) >> g_.cluster_bits);
    }
    int parts_result = co_await when_all(ctx_, std::move(parts));
    if (r == 0) r = parts_result;
    if (r == 0 && needs_writeback_ && !writeback_lock_.locked()) r = co_await writeback();
    co_return r;
}

// Plans a first part of [pos, pos + left): clusters written in place or one
// run of clusters allocated together, added to `parts` (not started).
// Returns its bytes, or 0 when another request is allocating the first
// cluster. The clusters of an allocating step are marked busy here, so a
// request planned later waits for them even before the step runs.
Task<int64_t> Qcow2Image::plan_write_step(uint64_t pos, const std::vector<iovec>& iov, uint64_t iov_pos,
                                          uint64_t left, std::vector<Task<int>>& parts) {
    const uint64_t l1_index = g_.l1_index(pos);
    L2Table* t = nullptr;
    int r = co_await get_l2(l1_index, &t);
    if (r < 0) co_return r;
    // Synchronous from here until the first co_await: t stays valid.
    const uint64_t end = std::min(pos + left, (l1_index + 1) * g_.l2_span());
    const uint64_t first = pos >> g_.cluster_bits;
    if (cluster_busy(first)) co_return 0;
    const bool own_table = t && (l1_[l1_index] & kCopied);
    auto entry_at = [&](uint64_t guest) { return t ? t->entries[g_.l2_index(guest)] : 0; };
    auto own_data = [&](uint64_t e) {
        L2Entry d = decode_l2(e, g_);
        return own_table && d.kind == ClusterKind::Normal && d.copied;
    };
    uint64_t run_end = std::min(end, g_.cluster_floor(pos) + g_.cluster_size());
    const uint64_t first_entry = entry_at(pos);
    if (own_data(first_entry)) {
        uint64_t host = first_entry & kOffsetMask;
        while (run_end < end && !cluster_busy(run_end >> g_.cluster_bits)) {
            uint64_t e = entry_at(run_end);
            if (!own_data(e) || (e & kOffsetMask) != host + (run_end - g_.cluster_floor(pos))) break;
            run_end = std::min(end, run_end + g_.cluster_size());
        }
        const uint64_t n = run_end - pos;
        parts.push_back(write_in_place(pos, host + g_.offset_in_cluster(pos), iov_slice(iov, iov_pos, n)));
        co_return int64_t(n);
    }
    std::vector<uint64_t> old_entries{first_entry};
    while (run_end < end && !cluster_busy(run_end >> g_.cluster_bits)) {
        uint64_t e = entry_at(run_end);
        if (own_data(e)) break;
        old_entries.push_back(e);
        run_end = std::min(end, run_end + g_.cluster_size());
    }
    const uint64_t clusters = old_entries.size();
    const uint64_t n = run_end - pos;
    set_busy(first, clusters);
    const uint64_t host = allocate_clusters(clusters);
    parts.push_back(write_allocating(pos, host, clusters, iov_slice(iov, iov_pos, n), std::move(old_entries)));
    co_return int64_t(n);
}

Task<int> Qcow2Image::write_in_place(uint64_t pos, uint64_t host, std::vector<iovec> data) {
    const uint64_t n = iov_size(data);
    if (overlaps_metadata(g_.cluster_floor(host), g_.cluster_ceil(host + n))) {
        mark_corrupt("Preventing invalid write on metadata (guest offset " + std::to_string(pos) + ")");
        co_return -EIO;
    }
    co_return co_await file_write(ctx_, io(), host, std::move(data));
}

// Whether a guest range of a cluster with this L2 entry reads as zeros.
bool Qcow2Image::reads_as_zero(uint64_t entry, uint64_t guest) const {
    switch (decode_l2(entry, g_).kind) {
    case ClusterKind::Zero:
    case ClusterKind::ZeroAlloc: return true;
    case ClusterKind::Unallocated: return !backing_ || guest >= backing_->size();
    default: return false;
    }
}

// The step's new clusters (allocated and marked busy by plan_write_step):
// data, copy-on-write of the rest, then the L2 entries.
Task<int> Qcow2Image::write_allocating(uint64_t pos, uint64_t host, uint64_t clusters, std::vector<iovec> data,
                                       std::vector<uint64_t> old_entries) {
    const uint64_t first = pos >> g_.cluster_bits;
    const uint64_t n = iov_size(data);
    const uint64_t start = first << g_.cluster_bits;
    const uint64_t head = pos - start;
    const uint64_t stop = std::min((first + clusters) << g_.cluster_bits, size());
    const uint64_t tail = stop - (pos + n);
    // Copy-on-write of what surrounds the new data, unless it is zeros.
    Buffer head_buf, tail_buf;
    std::vector<Task<int>> cow;
    if (head && !reads_as_zero(old_entries.front(), start)) {
        head_buf = Buffer(head);
        cow.push_back(read_cluster_range(old_entries.front(), start, {head_buf.iov()}));
    }
    if (tail && !reads_as_zero(old_entries.back(), pos + n)) {
        tail_buf = Buffer(tail);
        cow.push_back(read_cluster_range(old_entries.back(), pos + n, {tail_buf.iov()}));
    }
    int r = co_await when_all(ctx_, std::move(cow));
    uint64_t write_at = host + (head_buf.size() ? 0 : head);
    std::vector<iovec> out;
    if (head_buf.size()) out.push_back(head_buf.iov());
    out.insert(out.end(), data.begin(), data.end());
    if (tail_buf.size()) out.push_back(tail_buf.iov());
    if (r == 0) r = co_await file_write(ctx_, io(), write_at, std::move(out));
    if (r == 0) r = co_await link_clusters(first, host, clusters);
    clear_busy(first, clusters);
    if (r < 0) {
        for (uint64_t c = 0; c < clusters; c++) add_delta((host >> g_.cluster_bits) + c, -1);
        co_return r;
    }
    if (durable_writes()) co_return co_await writeback();  // no volatile cache: durable when the write completes
    co_return 0;
}

// Points the guest clusters at their new host clusters and drops what
// they referenced before.
Task<int> Qcow2Image::link_clusters(uint64_t first_cluster, uint64_t host, uint64_t count) {
    const uint64_t guest = first_cluster << g_.cluster_bits;
    const uint64_t l1_index = g_.l1_index(guest);
    L2Table* t = nullptr;
    int r = co_await get_l2_for_write(l1_index, &t);
    if (r < 0) co_return r;
    const uint64_t l2_index = g_.l2_index(guest);
    for (uint64_t i = 0; i < count; i++) {
        release_entry(t->entries[l2_index + i]);
        t->entries[l2_index + i] = (host + (i << g_.cluster_bits)) | kCopied;
    }
    mark_dirty(l1_[l1_index] & kOffsetMask, t);
    co_return 0;
}

} // namespace kestrel
