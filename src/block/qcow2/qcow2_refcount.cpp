// Refcounts: changes wait as deltas per host cluster; a writeback applies
// them to the cached refcount blocks, creating blocks (which count
// themselves) and a larger refcount table where the image has grown past
// what they cover, and writes what changed.
#include "block/async/buffer.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>

namespace kestrel {

using namespace qcow2;

void Qcow2Image::add_delta(uint64_t cluster, int64_t delta) {
    int64_t& d = deltas_[cluster];
    d += delta;
    if (d == 0) deltas_.erase(cluster);
}

// The block for reftable index i, loaded; *out = nullptr when the table
// has no block there (every refcount in its range is 0).
Task<int> Qcow2Image::get_refblock(uint64_t index, RefBlock** out) {
    for (;;) {
        *out = nullptr;
        auto it = refblocks_.find(index);
        if (it != refblocks_.end()) {
            RefBlock* b = it->second.get();
            if (b->loading) {
                co_await b->loaded.wait();
                continue;
            }
            b->last_use = ++use_clock_;
            *out = b;
            co_return 0;
        }
        if (index >= reftable_.size()) co_return 0;
        uint64_t offset = reftable_[index] & ~kReftableReserved;
        if (!offset) co_return 0;
        if (g_.offset_in_cluster(offset) || offset >= (uint64_t(1) << 56)) {
            mark_corrupt("Refblock offset " + std::to_string(offset) + " unaligned (reftable index: " +
                         std::to_string(index) + ")");
            co_return -EIO;
        }
        auto block = std::make_unique<RefBlock>();
        RefBlock* b = block.get();
        b->loading = true;
        refblocks_.emplace(index, std::move(block));
        evict_refblocks();
        Buffer buf(g_.cluster_size());
        int r = co_await file_read_buf(ctx_, io(), offset, buf.data(), buf.size());
        b->loading = false;
        b->loaded.wake_all(ctx_);
        if (r < 0) {
            refblocks_.erase(index);
            co_return r;
        }
        b->data.assign(buf.data(), buf.data() + buf.size());
        b->last_use = ++use_clock_;
        *out = b;
        co_return 0;
    }
}

void Qcow2Image::evict_refblocks() {
    while (refblocks_.size() > refblock_cache_limit_) {
        auto victim = refblocks_.end();
        for (auto it = refblocks_.begin(); it != refblocks_.end(); ++it) {
            if (it->second->loading || it->second->dirty) continue;
            if (victim == refblocks_.end() || it->second->last_use < victim->second->last_use) victim = it;
        }
        if (victim == refblocks_.end()) return;
        refblocks_.erase(victim);
    }
}

uint64_t Qcow2Image::stored_refcount(const RefBlock* block, uint64_t cluster) const {
    if (!block) return 0;
    if (cluster >= leftover_from_) {
        uint64_t i = cluster - leftover_from_;
        if (i >= counted_since_open_.size() || !counted_since_open_[i]) return 0;
    }
    return get_refcount(block->data, cluster & (g_.refblock_entries() - 1), g_.refcount_order);
}

bool Qcow2Image::add_refcount(uint64_t cluster, uint64_t count, int64_t delta, uint64_t* out, int* err) {
    if (delta < 0 && count < uint64_t(0) - uint64_t(delta)) {  // (the magnitude of any int64)
        mark_corrupt("refcount of cluster " + std::to_string(cluster) + " would drop below 0");
        *err = -EIO;
        return false;
    }
    uint64_t sum = count + uint64_t(delta);  // modulo 2^64: exact when in range
    if (delta > 0 && (sum < count || sum > g_.refcount_max())) {
        *err = -ERANGE;
        return false;
    }
    *out = sum;
    return true;
}

Task<int> Qcow2Image::refcount_of(uint64_t cluster, uint64_t* refcount) {
    RefBlock* b = nullptr;
    int r = co_await get_refblock(cluster >> g_.refblock_bits(), &b);
    if (r < 0) co_return r;
    uint64_t stored = stored_refcount(b, cluster);
    auto it = deltas_.find(cluster);
    if (it == deltas_.end()) {
        *refcount = stored;
        co_return 0;
    }
    co_return add_refcount(cluster, stored, it->second, refcount, &r) ? 0 : r;
}

Task<int> Qcow2Image::refcounts_of(uint64_t first, uint64_t count, std::vector<uint64_t>& out) {
    out.assign(count, 0);
    RefBlock* b = nullptr;
    int r = co_await get_refblock(first >> g_.refblock_bits(), &b);
    if (r < 0) co_return r;
    for (uint64_t i = 0; i < count; i++) out[i] = stored_refcount(b, first + i);
    for (auto it = deltas_.lower_bound(first); it != deltas_.end() && it->first < first + count; ++it) {
        uint64_t& n = out[it->first - first];
        if (!add_refcount(it->first, n, it->second, &n, &r)) co_return r;
    }
    co_return 0;
}

void Qcow2Image::note_counted(uint64_t cluster) {
    if (cluster < leftover_from_) return;
    uint64_t i = cluster - leftover_from_;
    if (i >= counted_since_open_.size()) counted_since_open_.resize(i + 1, false);
    counted_since_open_[i] = true;
}

Task<int> Qcow2Image::change_refcounts(std::map<uint64_t, int64_t> deltas) {
    for (auto [cluster, d] : deltas) add_delta(cluster, d);
    co_return 0;
}

// A refcount table with room for min_entries blocks, at the end of the
// file; the old one is freed (in `later`) once the header points at the new.
Task<int> Qcow2Image::grow_reftable(uint64_t min_entries, std::map<uint64_t, int64_t>& deltas,
                                   std::map<uint64_t, int64_t>& later) {
    uint64_t entries_per_cluster = g_.cluster_size() / 8;
    uint64_t want = std::max(min_entries + min_entries / 2, reftable_.size() * 2);
    uint64_t clusters = (want + entries_per_cluster - 1) / entries_per_cluster;
    if (clusters * g_.cluster_size() > kMaxReftableBytes) {
        clusters = kMaxReftableBytes / g_.cluster_size();
        if (clusters * entries_per_cluster < min_entries) co_return -EFBIG;
    }
    uint64_t first = next_cluster_;
    next_cluster_ += clusters;
    for (uint64_t c = 0; c < clusters; c++) deltas[first + c] += 1;
    uint64_t old_first = header_.refcount_table_offset >> g_.cluster_bits;
    if (!moved_reftable_) {  // the table on disk (not one we made this round)
        for (uint64_t c = 0; c < header_.refcount_table_clusters; c++) later[old_first + c] -= 1;
    } else {
        for (uint64_t c = 0; c < moved_reftable_clusters_; c++) deltas[moved_reftable_first_ + c] -= 1;
    }
    reftable_.resize(clusters * entries_per_cluster, 0);
    moved_reftable_ = true;
    moved_reftable_first_ = first;
    moved_reftable_clusters_ = clusters;
    co_return 0;
}

// Every block the deltas touch exists afterwards (new ones in the cache,
// counted in deltas themselves), and the table covers them.
Task<int> Qcow2Image::prepare_refblocks(std::map<uint64_t, int64_t>& deltas, std::map<uint64_t, int64_t>& later) {
    for (;;) {
        bool changed = false;
        uint64_t last_block = deltas.rbegin()->first >> g_.refblock_bits();
        if (last_block >= reftable_.size()) {
            int r = co_await grow_reftable(last_block + 1, deltas, later);
            if (r < 0) co_return r;
            changed = true;
        }
        std::vector<uint64_t> blocks;
        for (const auto& [cluster, d] : deltas) {
            uint64_t b = cluster >> g_.refblock_bits();
            if (blocks.empty() || blocks.back() != b) blocks.push_back(b);
        }
        for (uint64_t b : blocks) {
            if (b >= reftable_.size()) continue;  // the next round grows the table
            if (reftable_[b] & ~kReftableReserved) continue;
            uint64_t cluster = next_cluster_++;
            deltas[cluster] += 1;
            auto block = std::make_unique<RefBlock>();
            block->data.assign(g_.cluster_size(), 0);
            block->dirty = true;
            block->last_use = ++use_clock_;
            refblocks_[b] = std::move(block);
            reftable_[b] = cluster << g_.cluster_bits;
            dirty_reftable_.insert(b);
            new_refblocks_ = true;
            changed = true;
        }
        if (!changed) co_return 0;
    }
}

// Applies the deltas (taking them out of the map as they are applied),
// then writes the changed blocks and table entries. Clusters whose count
// dropped to 0 go to `freed`; decrements that must wait until the header
// no longer points at an old refcount table go to `later`.
Task<int> Qcow2Image::apply_deltas(std::map<uint64_t, int64_t>& deltas, std::vector<uint64_t>& freed,
                                   std::map<uint64_t, int64_t>& later) {
    if (deltas.empty()) co_return 0;
    int r = co_await prepare_refblocks(deltas, later);
    if (r < 0) co_return r;
    while (!deltas.empty()) {
        uint64_t b = deltas.begin()->first >> g_.refblock_bits();
        RefBlock* block = nullptr;
        r = co_await get_refblock(b, &block);
        if (r < 0) co_return r;
        if (!block) co_return -EIO;
        auto it = deltas.begin();
        while (it != deltas.end() && (it->first >> g_.refblock_bits()) == b) {
            uint64_t index = it->first & (g_.refblock_entries() - 1);
            uint64_t value = 0;
            if (!add_refcount(it->first, stored_refcount(block, it->first), it->second, &value, &r)) co_return r;
            set_refcount(block->data, index, g_.refcount_order, value);
            note_counted(it->first);
            if (value == 0 && it->second < 0) freed.push_back(it->first);
            it = deltas.erase(it);
        }
        block->dirty = true;
    }
    r = co_await write_dirty_refblocks();
    if (r == 0) r = co_await write_reftable_entries();
    co_return r;
}

Task<int> Qcow2Image::write_dirty_refblocks() {
    std::vector<std::pair<uint64_t, Buffer>> writes;
    for (auto& [index, block] : refblocks_) {
        if (!block->dirty || block->loading) continue;
        Buffer buf(g_.cluster_size());
        std::memcpy(buf.data(), block->data.data(), buf.size());
        writes.emplace_back(reftable_[index] & ~kReftableReserved, std::move(buf));
        block->dirty = false;
    }
    std::vector<Task<int>> tasks;
    for (auto& [offset, buf] : writes) tasks.push_back(file_write_buf(ctx_, io(), offset, buf.data(), buf.size()));
    int r = co_await when_all(ctx_, std::move(tasks));
    if (r < 0) {  // written again by the next writeback
        for (auto& [index, block] : refblocks_) block->dirty = true;
    }
    co_return r;
}

// New blocks are on disk; now the table entries that point at them (or a
// whole new table, and the header that points at it).
Task<int> Qcow2Image::write_reftable_entries() {
    if (dirty_reftable_.empty() && !moved_reftable_) co_return 0;
    if (new_refblocks_ || moved_reftable_) {
        int r = co_await sync_file();
        if (r < 0) co_return r;
    }
    if (moved_reftable_) {
        std::vector<uint8_t> table = encode_table(reftable_);
        uint64_t offset = moved_reftable_first_ << g_.cluster_bits;
        Buffer buf(moved_reftable_clusters_ << g_.cluster_bits);
        std::memcpy(buf.data(), table.data(), std::min(table.size(), buf.size()));
        int r = co_await file_write_buf(ctx_, io(), offset, buf.data(), buf.size());
        if (r == 0) r = co_await sync_file();
        if (r < 0) co_return r;
        header_.refcount_table_offset = offset;
        header_.refcount_table_clusters = uint32_t(moved_reftable_clusters_);
        r = co_await rewrite_header();
        if (r < 0) co_return r;
        moved_reftable_ = false;
    } else {
        // The 512-byte pieces of the table that changed (encoding the whole
        // table, up to 8 MiB, at every writeback cost more than the writes).
        std::set<uint64_t> sectors;
        for (uint64_t i : dirty_reftable_) sectors.insert(i / 64);
        for (uint64_t s : sectors) {
            Buffer buf(512);
            for (uint64_t i = s * 64; i < std::min<uint64_t>(reftable_.size(), s * 64 + 64); i++)
                put_be64(buf.data() + (i - s * 64) * 8, reftable_[i]);
            int r = co_await file_write_buf(ctx_, io(), header_.refcount_table_offset + s * 512, buf.data(), 512);
            if (r < 0) co_return r;
        }
    }
    dirty_reftable_.clear();
    new_refblocks_ = false;
    co_return 0;
}

} // namespace kestrel
