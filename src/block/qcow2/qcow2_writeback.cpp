// Writeback: cached metadata to the file in an order that keeps the image
// consistent at every moment (see qcow2_image.h), and the header.
#include "block/async/buffer.h"
#include "block/qcow2/qcow2_image.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/falloc.h>
#include <spdlog/spdlog.h>

namespace kestrel {

using namespace qcow2;

namespace {

struct TableWrite {
    uint64_t offset;
    bool is_new;
    Buffer data;
};

} // namespace

Task<int> Qcow2Image::sync_file() {
    if (cache_ == CacheMode::Unsafe) co_return 0;
    co_return co_await file_flush(ctx_, io());
}

Task<int> Qcow2Image::flush() {
    if (read_only_) co_return 0;
    co_return co_await do_writeback(true);
}

Task<int> Qcow2Image::writeback() { return do_writeback(false); }

Task<int> Qcow2Image::close() {
    if (read_only_) co_return 0;
    int r = 0;
    if (!corrupt_) r = co_await do_writeback(true);
    if (corrupt_ && header_.version >= 3) {
        header_.incompatible_features |= kIncompatCorrupt;
        r = co_await rewrite_header();
    }
    co_return r;
}

Task<int> Qcow2Image::do_writeback(bool flush_after) {
    co_await writeback_lock_.lock();
    int r = co_await writeback_locked(flush_after);
    writeback_lock_.unlock(ctx_);
    co_return r;
}

Task<int> Qcow2Image::write_tables(std::vector<TableWriteRef> tables) {
    std::vector<Task<int>> tasks;
    for (const TableWriteRef& w : tables)
        tasks.push_back(file_write_buf(ctx_, io(), w.offset, w.data, w.length));
    co_return co_await when_all(ctx_, std::move(tasks));
}

Task<int> Qcow2Image::writeback_locked(bool flush_after) {
    if (corrupt_) co_return -EIO;
    needs_writeback_ = false;
    std::map<uint64_t, int64_t> inc, dec;
    for (auto [cluster, d] : deltas_) (d > 0 ? inc : dec)[cluster] = d;
    deltas_.clear();
    // Copies of the dirty tables as they are now; later changes make them
    // dirty again for the next writeback.
    std::vector<TableWrite> tables;
    for (uint64_t offset : dirty_l2_) {
        L2Table* t = l2_cache_.at(offset).get();
        Buffer buf(g_.cluster_size());
        std::vector<uint8_t> bytes = encode_table(t->entries);
        std::memcpy(buf.data(), bytes.data(), buf.size());
        tables.push_back({offset, t->is_new, std::move(buf)});
        t->dirty = false;
        t->is_new = false;
        t->writing++;
    }
    dirty_l2_.clear();
    std::set<uint64_t> l1 = std::move(dirty_l1_);
    dirty_l1_.clear();
    const bool references = !l1.empty() || std::any_of(tables.begin(), tables.end(),
                                                         [](const TableWrite& w) { return !w.is_new; });

    std::vector<uint64_t> freed;
    std::vector<TableWriteRef> new_tables, old_tables;
    for (TableWrite& w : tables)
        (w.is_new ? new_tables : old_tables).push_back({w.offset, w.data.data(), w.data.size()});
    // 1. Counts that go up, and tables nothing on disk points at yet.
    std::map<uint64_t, int64_t> later;  // an old refcount table, freed in step 4
    int r = co_await apply_deltas(inc, freed, later);
    if (r == 0) r = co_await write_tables(std::move(new_tables));
    // 2. All of that (and the data written so far) is on disk.
    for (auto [cluster, d] : later) dec[cluster] += d;
    if (r == 0 && (references || !dec.empty())) r = co_await sync_file();
    // 3. The references.
    if (r == 0) r = co_await write_tables(std::move(old_tables));
    if (r == 0) r = co_await write_l1_entries(l1);
    // 4. Counts that go down: nothing points at those clusters any more.
    std::map<uint64_t, int64_t> unused;
    if (r == 0) r = co_await apply_deltas(dec, freed, unused);
    if (r == 0 && discard_unmap_) {
        for (uint64_t cluster : freed)  // give the space back to the host; failures do not matter
            co_await file_fallocate(ctx_, io(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                    cluster << g_.cluster_bits, g_.cluster_size());
    }
    for (TableWrite& w : tables) {
        auto it = l2_cache_.find(w.offset);
        if (it == l2_cache_.end()) continue;
        it->second->writing--;
        if (r < 0) {
            it->second->is_new |= w.is_new;
            mark_dirty(w.offset, it->second.get());
        }
    }
    if (r < 0) {  // try again at the next writeback
        dirty_l1_.insert(l1.begin(), l1.end());
        for (auto [cluster, d] : inc) add_delta(cluster, d);
        for (auto [cluster, d] : dec) add_delta(cluster, d);
        spdlog::error("qcow2 '{}': writing metadata failed: {}", filename_, std::strerror(-r));
        co_return r;
    }
    evict_l2();
    evict_refblocks();
    if (flush_after) r = co_await sync_file();
    co_return r;
}

// L1 entries in 512-byte pieces of the table.
Task<int> Qcow2Image::write_l1_entries(std::set<uint64_t> indices) {
    if (indices.empty()) co_return 0;
    std::set<uint64_t> sectors;
    for (uint64_t i : indices) sectors.insert(i / 64);
    std::vector<uint8_t> table = encode_table(l1_);
    for (uint64_t s : sectors) {
        Buffer buf(512);
        size_t n = std::min<size_t>(512, table.size() - s * 512);
        std::memcpy(buf.data(), table.data() + s * 512, n);
        int r = co_await file_write_buf(ctx_, io(), header_.l1_table_offset + s * 512, buf.data(), n);
        if (r < 0) co_return r;
    }
    co_return 0;
}

Task<int> Qcow2Image::rewrite_header() {
    std::vector<uint8_t> bytes;
    try {
        bytes = encode_header(header_);
    } catch (const FormatError& e) {
        co_return -ENOSPC;
    }
    Buffer buf(g_.cluster_size());
    std::memcpy(buf.data(), bytes.data(), bytes.size());
    size_t length = std::min<size_t>(buf.size(), (bytes.size() + 511) & ~size_t(511));
    co_return co_await file_write_buf(ctx_, io(), 0, buf.data(), length);
}

void Qcow2Image::mark_corrupt(const std::string& what) {
    if (!corrupt_)
        spdlog::error("qcow2: Marking image as corrupt: {}; further corruption events will be suppressed ({})", what,
                      filename_);
    corrupt_ = true;
}

bool Qcow2Image::overlaps_metadata(uint64_t start, uint64_t end) const {
    auto overlaps = [&](uint64_t offset, uint64_t bytes) {
        return bytes && start < g_.cluster_ceil(offset + bytes) && g_.cluster_floor(offset) < end;
    };
    if (overlaps(0, g_.cluster_size())) return true;
    if (overlaps(header_.l1_table_offset, uint64_t(header_.l1_size) * 8)) return true;
    if (overlaps(header_.refcount_table_offset, uint64_t(header_.refcount_table_clusters) << g_.cluster_bits))
        return true;
    if (header_.nb_snapshots && overlaps(header_.snapshots_offset, g_.cluster_size())) return true;
    for (uint64_t c = g_.cluster_floor(start); c < end; c += g_.cluster_size())
        if (l2_cache_.count(c)) return true;
    for (const auto& [index, block] : refblocks_)
        if (index < reftable_.size() && overlaps(reftable_[index] & ~kReftableReserved, g_.cluster_size()))
            return true;
    return false;
}

} // namespace kestrel
