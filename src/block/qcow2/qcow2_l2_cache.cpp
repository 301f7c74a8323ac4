// The L2 table cache: tables by host offset, loaded once however many
// requests want them, evicted least recently used when clean, and copied or
// allocated before a write changes them.
#include "block/async/buffer.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>
#include <spdlog/spdlog.h>

namespace kestrel {

using namespace qcow2;

Task<int> Qcow2Image::get_l2(uint64_t l1_index, L2Table** out) {
    for (;;) {
        *out = nullptr;
        if (l1_index >= l1_.size()) co_return 0;
        uint64_t entry = l1_[l1_index];
        uint64_t offset = entry & kOffsetMask;
        if (!offset) co_return 0;
        if (g_.offset_in_cluster(offset)) {
            mark_corrupt("L2 table offset " + std::to_string(offset) + " unaligned (L1 index: " +
                         std::to_string(l1_index) + ")");
            co_return -EIO;
        }
        int r = co_await get_l2_at(offset, out);
        if (r < 0) co_return r;
        if (l1_[l1_index] == entry) co_return 0;  // else the table moved meanwhile: look again
    }
}

Task<int> Qcow2Image::get_l2_at(uint64_t offset, L2Table** out) {
    for (;;) {
        auto it = l2_cache_.find(offset);
        if (it != l2_cache_.end()) {
            L2Table* t = it->second.get();
            if (t->loading) {
                co_await t->loaded.wait();
                continue;  // it may have failed, or been evicted since
            }
            t->last_use = ++use_clock_;
            *out = t;
            co_return 0;
        }
        if (offset >= (uint64_t(1) << 56) || offset == 0) {
            mark_corrupt("L2 table offset " + std::to_string(offset) + " outside the image");
            co_return -EIO;
        }
        auto table = std::make_unique<L2Table>();
        L2Table* t = table.get();
        t->loading = true;
        l2_cache_.emplace(offset, std::move(table));
        evict_l2();
        Buffer buf(g_.cluster_size());
        int r = co_await file_read_buf(ctx_, io(), offset, buf.data(), buf.size());
        t->loading = false;
        if (r < 0) {
            t->loaded.wake_all(ctx_);
            l2_cache_.erase(offset);
            co_return r;
        }
        t->entries = decode_table(buf.span());
        t->last_use = ++use_clock_;
        t->loaded.wake_all(ctx_);
        *out = t;
        co_return 0;
    }
}

void Qcow2Image::evict_l2() {
    while (l2_cache_.size() > l2_cache_limit_) {
        auto victim = l2_cache_.end();
        for (auto it = l2_cache_.begin(); it != l2_cache_.end(); ++it) {
            const L2Table& t = *it->second;
            if (t.loading || t.dirty || t.writing) continue;
            if (victim == l2_cache_.end() || t.last_use < victim->second->last_use) victim = it;
        }
        if (victim == l2_cache_.end()) {
            needs_writeback_ = true;  // all dirty: the next writeback makes room
            return;
        }
        l2_cache_.erase(victim);
    }
}

void Qcow2Image::mark_dirty(uint64_t l2_offset, L2Table* t) {
    t->dirty = true;
    dirty_l2_.insert(l2_offset);
    if (dirty_l2_.size() >= l2_cache_limit_) needs_writeback_ = true;
}

// The table of l1_index, made this image's own: a new zeroed table when
// the L1 entry is empty, a copy when the table is shared with a snapshot.
Task<int> Qcow2Image::get_l2_for_write(uint64_t l1_index, L2Table** out) {
    for (;;) {
        uint64_t entry = l1_[l1_index];
        if (entry & kOffsetMask && entry & kCopied) co_return co_await get_l2(l1_index, out);
        std::vector<uint64_t> entries(g_.l2_entries(), 0);
        if (entry & kOffsetMask) {
            L2Table* shared = nullptr;
            int r = co_await get_l2(l1_index, &shared);
            if (r < 0) co_return r;
            if (l1_[l1_index] != entry) continue;
            entries = shared->entries;
            for (uint64_t& e : entries) {  // now referenced from two tables
                if (!e) continue;
                L2Entry d = decode_l2(e, g_);
                if (d.kind == ClusterKind::Compressed) {
                    auto [first, count] = compressed_host_clusters(d, g_);
                    for (uint64_t c = 0; c < count; c++) add_delta(first + c, 1);
                } else if (d.host_offset) {
                    add_delta(d.host_offset >> g_.cluster_bits, 1);
                    e &= ~kCopied;
                }
            }
            add_delta((entry & kOffsetMask) >> g_.cluster_bits, -1);
        }
        uint64_t host = allocate_clusters(1);
        auto table = std::make_unique<L2Table>();
        table->entries = std::move(entries);
        table->is_new = true;
        table->last_use = ++use_clock_;
        L2Table* t = table.get();
        l2_cache_.emplace(host, std::move(table));
        mark_dirty(host, t);
        l1_[l1_index] = host | kCopied;
        dirty_l1_.insert(l1_index);
        evict_l2();
        *out = t;
        co_return 0;
    }
}

} // namespace kestrel
