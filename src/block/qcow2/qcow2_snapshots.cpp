// Internal snapshots (qemu-img snapshot -c/-a/-d): a snapshot is a copy of
// the active L1 table plus one more reference to everything it reaches
// (refcounts count L1 walks, as QEMU's do). Each step writes back with the
// usual ordering, and the snapshot table changes last on create and first
// on delete, so a crash at any point leaves leaks at worst.
#include "block/async/buffer.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>
#include <spdlog/spdlog.h>

namespace kestrel {

using namespace qcow2;

namespace {

// QEMU's check before it reads a snapshot's L1 table: an entry the table
// may hold (a size of 2^32 entries would be a 32 GiB read) at a cluster
// aligned offset. 0 or -errno (EFBIG, EINVAL), with QEMU's message.
int validate_snapshot_l1(const Geometry& g, const Snapshot& sn) {
    try {
        validate_table(g, sn.l1_table_offset, sn.l1_size, 8, kMaxL1Bytes, "Snapshot L1 table");
        return 0;
    } catch (const FormatError& e) {
        spdlog::error("{}", e.what());
        return -e.err();
    }
}

} // namespace

// Adds delta to every L2 table the L1 entries reference and to every
// cluster those tables reference.
Task<int> Qcow2Image::add_l1_references(std::vector<uint64_t> l1, int64_t delta) {
    for (uint64_t entry : l1) {
        uint64_t l2_offset = entry & kOffsetMask;
        if (!l2_offset) continue;
        L2Table* t = nullptr;
        int r = co_await get_l2_at(l2_offset, &t);
        if (r < 0) co_return r;
        add_delta(l2_offset >> g_.cluster_bits, delta);
        for (uint64_t e : t->entries) {
            L2Entry d = decode_l2(e, g_);
            if (d.kind == ClusterKind::Compressed) {
                auto [first, count] = compressed_host_clusters(d, g_);
                for (uint64_t c = 0; c < count; c++) add_delta(first + c, delta);
            } else if (d.host_offset) {
                add_delta(d.host_offset >> g_.cluster_bits, delta);
            }
        }
    }
    co_return 0;
}

// COPIED exactly where the refcount is 1 (what in-place writes rely on).
Task<int> Qcow2Image::update_copied_flags() {
    for (size_t i = 0; i < l1_.size(); i++) {
        uint64_t l2_offset = l1_[i] & kOffsetMask;
        if (!l2_offset) continue;
        uint64_t rc = 0;
        int r = co_await refcount_of(l2_offset >> g_.cluster_bits, &rc);
        if (r < 0) co_return r;
        if ((rc == 1) != bool(l1_[i] & kCopied)) set_copied_flag_l1(i, rc == 1);
        L2Table* t = nullptr;
        r = co_await get_l2_at(l2_offset, &t);
        if (r < 0) co_return r;
        std::vector<uint64_t> entries = t->entries;
        for (size_t j = 0; j < entries.size(); j++) {
            L2Entry d = decode_l2(entries[j], g_);
            if (d.kind != ClusterKind::Normal && d.kind != ClusterKind::ZeroAlloc) continue;
            uint64_t n = 0;
            r = co_await refcount_of(d.host_offset >> g_.cluster_bits, &n);
            if (r < 0) co_return r;
            if ((n == 1) != d.copied) co_await set_copied_flag_l2(i, j, n == 1);
        }
    }
    co_return 0;
}

// A new snapshot table (or none), then the header pointing at it; the old
// table's clusters are freed afterwards.
Task<int> Qcow2Image::write_snapshot_table(std::vector<Snapshot> list) {
    std::vector<uint8_t> bytes = encode_snapshot_table(list, header_.version);
    uint64_t clusters = (bytes.size() + g_.cluster_size() - 1) >> g_.cluster_bits;
    uint64_t offset = list.empty() ? 0 : allocate_clusters(clusters);
    int r = co_await do_writeback(true);
    if (r < 0) co_return r;
    if (!list.empty()) {
        Buffer buf(clusters << g_.cluster_bits);
        std::memcpy(buf.data(), bytes.data(), bytes.size());
        r = co_await file_write_buf(ctx_, io(), offset, buf.data(), buf.size());
        if (r == 0) r = co_await sync_file();
        if (r < 0) co_return r;
    }
    uint64_t old_offset = header_.snapshots_offset, old_bytes = snapshot_table_bytes_;
    header_.nb_snapshots = uint32_t(list.size());
    header_.snapshots_offset = offset;
    r = co_await rewrite_header();
    if (r == 0) r = co_await sync_file();
    if (r < 0) co_return r;
    snapshots_ = std::move(list);
    snapshot_table_bytes_ = bytes.size();
    if (old_offset && old_bytes) {
        uint64_t first = old_offset >> g_.cluster_bits;
        uint64_t last = (old_offset + old_bytes - 1) >> g_.cluster_bits;
        for (uint64_t c = first; c <= last; c++) add_delta(c, -1);
    }
    co_return co_await do_writeback(true);
}

Task<int> Qcow2Image::snapshot_create(Snapshot sn) {
    if (read_only_) co_return -EBADF;
    if (corrupt_) co_return -EIO;
    if (g_.refcount_bits() < 2) co_return -ENOTSUP;  // a second reference needs a count of 2
    for (const Snapshot& other : snapshots_)
        if (other.id == sn.id) co_return -EEXIST;
    if (snapshots_.size() >= kMaxSnapshots) co_return -EFBIG;
    int r = co_await do_writeback(true);
    if (r < 0) co_return r;
    // The copy of the L1 table.
    std::vector<uint64_t> copy = l1_;
    for (uint64_t& e : copy) e &= ~kCopied;
    uint64_t clusters = (copy.size() * 8 + g_.cluster_size() - 1) >> g_.cluster_bits;
    uint64_t l1_offset = copy.empty() ? 0 : allocate_clusters(clusters);
    if (!copy.empty()) {
        std::vector<uint8_t> bytes = encode_table(copy);
        Buffer buf(clusters << g_.cluster_bits);
        std::memcpy(buf.data(), bytes.data(), bytes.size());
        r = co_await file_write_buf(ctx_, io(), l1_offset, buf.data(), buf.size());
        if (r < 0) co_return r;
    }
    r = co_await add_l1_references(l1_, 1);
    if (r < 0) co_return r;
    // Everything is shared now: nothing may be written in place.
    for (size_t i = 0; i < l1_.size(); i++) {
        uint64_t l2_offset = l1_[i] & kOffsetMask;
        if (!l2_offset) continue;
        set_copied_flag_l1(i, false);
        L2Table* t = nullptr;
        r = co_await get_l2_at(l2_offset, &t);
        if (r < 0) co_return r;
        bool changed = false;
        for (uint64_t& e : t->entries) {
            if ((e & kCopied) && !(e & kCompressed)) {
                e &= ~kCopied;
                changed = true;
            }
        }
        if (changed) mark_dirty(l2_offset, t);
    }
    r = co_await do_writeback(true);
    if (r < 0) co_return r;
    sn.l1_table_offset = l1_offset;
    sn.l1_size = uint32_t(copy.size());
    if (!sn.disk_size) sn.disk_size = size();
    std::vector<Snapshot> list = snapshots_;
    list.push_back(std::move(sn));
    co_return co_await write_snapshot_table(std::move(list));
}

Task<int> Qcow2Image::snapshot_apply(size_t index) {
    if (read_only_) co_return -EBADF;
    if (corrupt_) co_return -EIO;
    if (index >= snapshots_.size()) co_return -ENOENT;
    const Snapshot sn = snapshots_[index];
    if (int err = validate_snapshot_l1(g_, sn)) co_return err;
    // As QEMU: the image takes the snapshot's size first (its L1 table
    // grows to cover it, or the size is refused), so that the header
    // never names a size the L1 table cannot map.
    if (sn.disk_size && *sn.disk_size != size()) {
        int err = co_await resize(*sn.disk_size);
        if (err < 0) co_return err;
    }
    int r = co_await do_writeback(true);
    if (r < 0) co_return r;
    std::vector<uint64_t> target;
    r = co_await read_table(sn.l1_table_offset, sn.l1_size, target);
    if (r < 0) co_return r;
    if (target.size() > l1_.size()) {
        r = co_await grow_l1(target.size());
        if (r < 0) co_return r;
    }
    target.resize(l1_.size(), 0);
    for (uint64_t& e : target) e &= ~kCopied;
    r = co_await add_l1_references(target, 1);
    if (r == 0) r = co_await do_writeback(true);  // the new references are counted
    if (r < 0) co_return r;
    std::vector<uint64_t> old = l1_;
    l1_ = target;
    for (size_t i = 0; i < l1_.size(); i++) dirty_l1_.insert(i);
    r = co_await do_writeback(true);  // the active L1 is the snapshot's
    if (r == 0) r = co_await add_l1_references(old, -1);
    if (r == 0) r = co_await do_writeback(true);
    if (r == 0) r = co_await update_copied_flags();
    if (r == 0) r = co_await do_writeback(true);
    co_return r;
}

Task<int> Qcow2Image::snapshot_delete(size_t index) {
    if (read_only_) co_return -EBADF;
    if (corrupt_) co_return -EIO;
    if (index >= snapshots_.size()) co_return -ENOENT;
    const Snapshot sn = snapshots_[index];
    if (int err = validate_snapshot_l1(g_, sn)) co_return err;
    std::vector<Snapshot> list = snapshots_;
    list.erase(list.begin() + long(index));
    int r = co_await write_snapshot_table(std::move(list));
    if (r < 0) co_return r;
    std::vector<uint64_t> l1;
    r = co_await read_table(sn.l1_table_offset, sn.l1_size, l1);
    if (r == 0) r = co_await add_l1_references(l1, -1);
    if (r < 0) co_return r;
    if (sn.l1_size) {
        uint64_t first = sn.l1_table_offset >> g_.cluster_bits;
        uint64_t last = (sn.l1_table_offset + uint64_t(sn.l1_size) * 8 - 1) >> g_.cluster_bits;
        for (uint64_t c = first; c <= last; c++) add_delta(c, -1);
    }
    r = co_await do_writeback(true);
    if (r == 0) r = co_await update_copied_flags();
    if (r == 0) r = co_await do_writeback(true);
    co_return r;
}

} // namespace kestrel
