// qemu-img check for qcow2 images, with QEMU's messages and counters:
// references are counted per L1 table walk (so a cluster a snapshot shares
// counts twice), then compared with the stored refcounts; then the COPIED
// flags of the active tables are checked against them.
#include "block/async/buffer.h"
#include "block/qcow2/qcow2_check.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstring>
#include <map>
#include <cstdio>
#include <sys/stat.h>

namespace kestrel {

using namespace qcow2;

namespace {

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

// Bytes of [offset, offset + size) past `end` (saturating).
uint64_t bytes_past(uint64_t offset, uint64_t size, uint64_t end) {
    if (offset < end) return size > end - offset ? size - (end - offset) : 0;
    return size > UINT64_MAX - (offset - end) ? UINT64_MAX : offset - end + size;
}

// check counts references in a table of one entry per cluster of the
// file: a file of more clusters (a 1 TiB sparse file of 512-byte
// clusters, which a hostile image can make kestrel write) would need
// gigabytes.
constexpr uint64_t kMaxCheckedClusters = uint64_t(1) << 27;

struct Counter {
    const Geometry& g;
    Qcow2CheckResult& res;
    std::vector<uint64_t> refs;
    uint64_t file_size;

    void inc(uint64_t offset, uint64_t size) {
        if (size == 0) return;
        // As QEMU: the last cluster may lie partly past the end of the file,
        // nothing more (a table entry pointing far past it must not make
        // the count as large as its offset).
        if (bytes_past(offset, size, file_size) >= g.cluster_size()) {
            res.messages.push_back(format("ERROR: counting reference for region exceeding the end of the file by "
                                          "one cluster or more: offset 0x%" PRIx64 " size 0x%" PRIx64,
                                          offset, size));
            res.corruptions++;
            return;
        }
        uint64_t first = offset >> g.cluster_bits, last = (offset + size - 1) >> g.cluster_bits;
        for (uint64_t k = first; k <= last; k++) {
            if (k >= refs.size()) refs.resize(k + 1, 0);
            if (refs[k] == g.refcount_max()) {
                res.messages.push_back(format("ERROR: overflow cluster offset=0x%" PRIx64, k << g.cluster_bits));
                res.messages.push_back("Use qemu-img amend to increase the refcount entry width or qemu-img convert "
                                       "to create a clean copy if the image cannot be opened for writing");
                res.corruptions++;
                continue;
            }
            refs[k]++;
        }
    }
    uint64_t get(uint64_t k) const { return k < refs.size() ? refs[k] : 0; }
};

} // namespace


Task<int> check_l2(Qcow2Image& img, Counter& c, uint64_t l2_offset, bool active) {
    const Geometry& g = img.geometry();
    std::vector<uint64_t> l2;
    int r = co_await img.read_table(l2_offset, g.l2_entries(), l2);
    if (r < 0) {
        c.res.messages.push_back("ERROR: I/O error in check_refcounts_l2");
        c.res.check_errors++;
        co_return r;
    }
    uint64_t next_contiguous = 0;
    for (uint64_t entry : l2) {
        L2Entry e = decode_l2(entry, g);
        if (e.kind != ClusterKind::Compressed && (entry & kL2Reserved)) {
            c.res.messages.push_back(format("ERROR found l2 entry with reserved bits set: %" PRIx64, entry));
            c.res.corruptions++;
        }
        switch (e.kind) {
        case ClusterKind::Compressed:
            if (entry & kCopied) {
                c.res.messages.push_back(format("ERROR: coffset=0x%" PRIx64
                                                ": copied flag must never be set for compressed clusters",
                                                e.host_offset));
                c.res.corruptions++;
            }
            c.inc(e.host_offset & ~uint64_t(511), e.compressed_bytes + (e.host_offset & 511));
            if (active) {
                c.res.allocated_clusters++;
                c.res.compressed_clusters++;
                c.res.fragmented_clusters++;
            }
            break;
        case ClusterKind::ZeroAlloc:
        case ClusterKind::Normal:
            if (active) {
                c.res.allocated_clusters++;
                if (next_contiguous && e.host_offset != next_contiguous) c.res.fragmented_clusters++;
                next_contiguous = e.host_offset + g.cluster_size();
            }
            c.inc(e.host_offset, g.cluster_size());
            if (g.offset_in_cluster(e.host_offset)) {
                c.res.messages.push_back(format("ERROR offset=%" PRIx64
                                                ": Data cluster is not properly aligned; L2 entry corrupted.",
                                                e.host_offset));
                c.res.corruptions++;
            }
            break;
        case ClusterKind::Zero:
        case ClusterKind::Unallocated: break;
        }
    }
    co_return 0;
}

Task<int> check_l1(Qcow2Image& img, Counter& c, uint64_t l1_offset, uint32_t l1_size, bool active) {
    const Geometry& g = img.geometry();
    c.inc(l1_offset, uint64_t(l1_size) * 8);
    std::vector<uint64_t> l1;
    int r = co_await img.read_table(l1_offset, l1_size, l1);
    if (r < 0) {
        c.res.messages.push_back("ERROR: I/O error in check_refcounts_l1");
        c.res.check_errors++;
        co_return r;
    }
    for (uint64_t entry : l1) {
        if (!entry) continue;
        if (entry & kL1Reserved) {
            c.res.messages.push_back(format("ERROR found L1 entry with reserved bits set: %" PRIx64, entry));
            c.res.corruptions++;
        }
        uint64_t l2_offset = entry & kOffsetMask;
        if (!l2_offset) continue;
        c.inc(l2_offset, g.cluster_size());
        if (g.offset_in_cluster(l2_offset)) {
            c.res.messages.push_back(format("ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; L1 entry corrupted",
                                            l2_offset));
            c.res.corruptions++;
            continue;
        }
        r = co_await check_l2(img, c, l2_offset, active);
        if (r < 0) co_return r;
    }
    co_return 0;
}

Task<int> count_references(Qcow2Image& img, Counter& c, const std::vector<uint64_t>& reftable, uint64_t nb_clusters) {
    const Geometry& g = img.geometry();
    const Header& h = img.header();
    c.inc(0, g.cluster_size());
    int r = co_await check_l1(img, c, h.l1_table_offset, h.l1_size, true);
    if (r < 0) co_return r;
    uint64_t snapshot_table_bytes = 0;
    for (const Snapshot& sn : img.snapshots()) {
        if (g.offset_in_cluster(sn.l1_table_offset)) {
            c.res.messages.push_back(format("ERROR snapshot %s (%s) l1_offset=%#" PRIx64
                                            ": L1 table is not cluster aligned; snapshot table entry corrupted",
                                            sn.id.c_str(), sn.name.c_str(), sn.l1_table_offset));
            c.res.corruptions++;
            continue;
        }
        if (sn.l1_size > kMaxL1Bytes / 8) {
            c.res.messages.push_back(format("ERROR snapshot %s (%s) l1_size=%#" PRIx32
                                            ": L1 table is too large; snapshot table entry corrupted",
                                            sn.id.c_str(), sn.name.c_str(), sn.l1_size));
            c.res.corruptions++;
            continue;
        }
        r = co_await check_l1(img, c, sn.l1_table_offset, sn.l1_size, false);
        if (r < 0) co_return r;
    }
    if (!img.snapshots().empty()) snapshot_table_bytes = img.snapshot_table_bytes();
    c.inc(h.snapshots_offset, snapshot_table_bytes);
    c.inc(h.refcount_table_offset, uint64_t(h.refcount_table_clusters) << g.cluster_bits);
    // Up to the last entry in use (a table is up to 2^20 entries, mostly 0).
    uint64_t used = reftable.size();
    while (used > 0 && reftable[used - 1] == 0) used--;
    for (uint64_t i = 0; i < used; i++) {
        uint64_t offset = reftable[i] & ~kReftableReserved;
        if (reftable[i] & kReftableReserved) {
            c.res.messages.push_back(format("ERROR refcount table entry %" PRIu64 " has reserved bits set", i));
            c.res.corruptions++;
            continue;
        }
        if (g.offset_in_cluster(offset)) {
            c.res.messages.push_back(format("ERROR refcount block %" PRIu64
                                            " is not cluster aligned; refcount table entry corrupted", i));
            c.res.corruptions++;
            continue;
        }
        if (!offset) continue;
        if ((offset >> g.cluster_bits) >= nb_clusters) {
            c.res.messages.push_back(format("ERROR refcount block %" PRIu64 " is outside image", i));
            c.res.corruptions++;
            continue;
        }
        c.inc(offset, g.cluster_size());
    }
    for (uint64_t i = 0; i < used; i++) {
        uint64_t offset = reftable[i] & ~kReftableReserved;
        if (!offset || (reftable[i] & kReftableReserved) || g.offset_in_cluster(offset) ||
            (offset >> g.cluster_bits) >= nb_clusters)
            continue;
        uint64_t n = c.get(offset >> g.cluster_bits);
        if (n != 1) {
            c.res.messages.push_back(format("ERROR refcount block %" PRIu64 " refcount=%" PRIu64, i, n));
            c.res.corruptions++;
        }
    }
    co_return 0;
}

// Sets the stored refcounts to the counted ones. A 64-bit refcount may be
// further from its count than one (int64) delta goes: such a repair takes
// up to three rounds.
Task<int> fix_refcounts(Qcow2Image& img, std::map<uint64_t, std::pair<uint64_t, uint64_t>> fixes) {
    while (!fixes.empty()) {
        std::map<uint64_t, int64_t> deltas;
        for (auto it = fixes.begin(); it != fixes.end();) {
            auto& [stored, counted] = it->second;
            uint64_t step = std::min<uint64_t>(stored > counted ? stored - counted : counted - stored, INT64_MAX);
            deltas[it->first] = stored > counted ? -int64_t(step) : int64_t(step);
            stored = stored > counted ? stored - step : stored + step;
            it = stored == counted ? fixes.erase(it) : std::next(it);
        }
        int r = co_await img.change_refcounts(std::move(deltas));
        if (r == 0) r = co_await img.writeback();
        if (r < 0) co_return r;
    }
    co_return 0;
}

// Compares stored and counted refcounts; with `fix`, changes the stored
// ones (leaks down, errors up). Returns the highest cluster in use.
Task<int64_t> compare(Qcow2Image& img, Counter& c, Qcow2Repair fix, uint64_t nb_clusters) {
    int64_t highest = -1;
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> fixes;
    const uint64_t limit = std::max<uint64_t>(nb_clusters, c.refs.size());
    const uint64_t per_block = img.geometry().refblock_entries();
    std::vector<uint64_t> counts;
    int r = 0;
    for (uint64_t i = 0; i < limit; i++) {
        if (i == 0 || i % per_block == 0)  // a refcount block at a time
            r = co_await img.refcounts_of(i, std::min(per_block - i % per_block, limit - i), counts);
        if (r < 0) {
            c.res.messages.push_back(format("Can't get refcount for cluster %" PRIu64 ": %s", i, std::strerror(-r)));
            c.res.check_errors++;
            continue;
        }
        const uint64_t stored = counts[i % per_block], counted = c.get(i);
        if (stored > 0 || counted > 0) highest = int64_t(i);
        if (stored == counted) continue;
        bool leak = stored > counted;
        bool fixing = leak ? fix != Qcow2Repair::None : fix == Qcow2Repair::All;
        c.res.messages.push_back(format("%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
                                        fixing ? "Repairing" : leak ? "Leaked" : "ERROR", i, stored, counted));
        if (fixing) {
            fixes[i] = {stored, counted};
            (leak ? c.res.leaks_fixed : c.res.corruptions_fixed)++;
        } else {
            (leak ? c.res.leaks : c.res.corruptions)++;
        }
    }
    if (!fixes.empty()) {
        r = co_await fix_refcounts(img, std::move(fixes));
        if (r < 0) {
            c.res.check_errors++;
            co_return r;
        }
    }
    co_return highest;
}

Task<int> check_copied_flags(Qcow2Image& img, Qcow2CheckResult& res, Qcow2Repair fix) {
    const Geometry& g = img.geometry();
    bool fixing = fix == Qcow2Repair::All;
    std::vector<uint64_t> l1 = img.l1_table();
    for (size_t i = 0; i < l1.size(); i++) {
        uint64_t l2_offset = l1[i] & kOffsetMask;
        if (!l2_offset) continue;
        uint64_t refcount = 0;
        int known = co_await img.refcount_of(l2_offset >> g.cluster_bits, &refcount);
        if (known == 0 && (refcount == 1) != bool(l1[i] & kCopied)) {
            res.messages.push_back(format("%s OFLAG_COPIED L2 cluster: l1_index=%zu l1_entry=%" PRIx64
                                          " refcount=%" PRIu64,
                                          fixing ? "Repairing" : "ERROR", i, l1[i], refcount));
            if (fixing) {
                img.set_copied_flag_l1(i, refcount == 1);
                res.corruptions_fixed++;
            } else {
                res.corruptions++;
            }
        }
        std::vector<uint64_t> l2;
        int r = co_await img.read_table(l2_offset, g.l2_entries(), l2);
        if (r < 0) {
            res.messages.push_back(format("ERROR: Could not read L2 table: %s", std::strerror(-r)));
            res.check_errors++;
            co_return r;
        }
        for (size_t j = 0; j < l2.size(); j++) {
            L2Entry e = decode_l2(l2[j], g);
            if (e.kind != ClusterKind::Normal && e.kind != ClusterKind::ZeroAlloc) continue;
            uint64_t n = 0;
            if (co_await img.refcount_of(e.host_offset >> g.cluster_bits, &n) < 0 || (n == 1) == e.copied) continue;
            res.messages.push_back(format("%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%" PRIu64,
                                          fixing ? "Repairing" : "ERROR", l2[j], n));
            if (fixing) {
                co_await img.set_copied_flag_l2(i, j, n == 1);
                res.corruptions_fixed++;
            } else {
                res.corruptions++;
            }
        }
    }
    if (fixing) co_return co_await img.writeback();
    co_return 0;
}

Task<int> qcow2_check(Qcow2Image& img, Qcow2Repair fix, Qcow2CheckResult& res) {
    const Geometry& g = img.geometry();
    if (!img.read_only()) {
        int r = co_await img.writeback();
        if (r < 0) {
            res.check_errors++;
            co_return r;
        }
    }
    if (img.read_only()) fix = Qcow2Repair::None;
    uint64_t nb_clusters = g.cluster_ceil(img.current_file_size()) >> g.cluster_bits;
    res.total_clusters = (img.size() + g.cluster_size() - 1) >> g.cluster_bits;
    if (nb_clusters > kMaxCheckedClusters) {  // QEMU fails its allocation the same way
        res.check_errors++;
        co_return -ENOMEM;
    }
    Counter counter{g, res, std::vector<uint64_t>(nb_clusters, 0), img.current_file_size()};
    int r = co_await count_references(img, counter, img.reftable(), nb_clusters);
    if (r < 0) co_return r;
    // First without repairing, for the messages; then repairing.
    Qcow2CheckResult before = res;
    int64_t highest = co_await compare(img, counter, Qcow2Repair::None, nb_clusters);
    if (fix != Qcow2Repair::None && (res.leaks || res.corruptions)) {
        std::vector<std::string> messages = std::move(res.messages);
        res = before;
        res.messages = std::move(messages);
        highest = co_await compare(img, counter, fix, nb_clusters);
        if (highest < -1) co_return int(highest);
    }
    r = co_await check_copied_flags(img, res, fix);
    if (r < 0) co_return r;
    res.image_end_offset = uint64_t(highest + 1) << g.cluster_bits;
    co_return 0;
}

} // namespace kestrel
