// qcow2 image files of any content, opened as kestrel-img opens them (and
// -drive format=qcow2: the same open_image() with its backing chain and
// locks), in the target's scratch folder. A copy opened read-only is read
// at the input's offsets, its block status asked, its info and snapshot
// list printed and `check` run; a second copy, opened read-write, gets the
// input's writes, zero writes, discards, compressed writes, flushes and
// internal snapshot changes (create, apply, delete), then is checked,
// closed, reopened and checked again.
//
// Every open must succeed or fail with an error naming the image; every
// request must complete with 0 or -errno (an exception out of a request
// would end kestrel); allocations stay within libFuzzer's -rss_limit_mb.
// An image `check` finds consistent must stay consistent through the
// writes (no corruption, on disk after the close as well), and reads
// must give back what was just written.
//
// Input: u8 flags, kOps operations of {u8 kind, u64 offset, u16 length},
// then the image file's bytes.
//   flags bit 0: the read-write copy is opened and written
//         bit 1: its operations run side by side (one batch), unchecked
//         bit 2: it is opened for repair and repaired first (check -r all)
// A backing file is opened when its name is a plain file name: the
// scratch folder holds base.raw (64 KiB of a pattern) and the two copies
// (ro.qcow2, rw.qcow2: a loop when they name themselves).
#include "block/async/co_sync.h"
#include "block/qcow2/qcow2_check.h"
#include "block/qcow2/qcow2_image.h"
#include "fuzz_support.h"
#include "img/image_info.h"
#include "img/img_common.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>
#include <sys/stat.h>
#include <vector>

using namespace kestrel;

namespace {

constexpr unsigned kOps = 8;
constexpr uint64_t kBaseSize = 64 << 10;
// New clusters go after everything an image references, so one whose
// tables point far past its end grows (sparse) to there, and `check`
// walks every cluster of the file: past this size it takes minutes, and
// the target checks only the image it was given (RESULTS.md, 2026-12-05).
constexpr uint64_t kCheckedFileSize = 256ull << 20;

enum Kind : uint8_t {
    Read, Write, Zero, ZeroUnmap, Discard, Flush, Status, Compressed,
    SnapshotCreate, SnapshotApply, SnapshotDelete,  // kestrel-img snapshot -c/-a/-d
    KindCount
};

struct Op {
    Kind kind;
    uint64_t offset;
    uint64_t length;
    uint8_t seed;
};

std::vector<Op> read_ops(fuzz::ByteReader& in) {
    std::vector<Op> ops;
    for (unsigned i = 0; i < kOps; i++) {
        Kind kind = Kind(in.u8() % KindCount);
        uint64_t offset = in.u64();
        uint64_t length = in.u16();
        ops.push_back({kind, offset, length, uint8_t(i * 37 + 11)});
    }
    return ops;
}

// The request of `op` within a disk of `size` bytes (none when size is 0).
Op placed(Op op, uint64_t size) {
    op.offset = size ? op.offset % size : 0;
    op.length = std::min(op.length, size - op.offset);
    return op;
}

std::vector<uint8_t> pattern(uint64_t length, uint8_t seed) {
    std::vector<uint8_t> out(length);
    for (uint64_t i = 0; i < length; i++) out[i] = uint8_t(seed + i * 31 + (i >> 9));
    return out;
}

uint64_t file_size(const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

void make_base_file() {
    static const bool made = [] {
        std::vector<uint8_t> base = pattern(kBaseSize, 0x5a);
        fuzz::write_scratch_file("base.raw", base.data(), base.size());
        return true;
    }();
    (void)made;
}

// Backing files outside the scratch folder are never opened.
bool backing_is_local(std::span<const uint8_t> image) {
    try {
        const qcow2::Header h = qcow2::parse_header(image.first(std::min<size_t>(image.size(), 2 << 20)), false);
        return h.backing_file.find('/') == std::string::npos;
    } catch (const std::runtime_error&) {
        return true;  // open() refuses it the same way
    }
}

std::unique_ptr<AsyncImage> open_copy(AioContext& ctx, const std::string& path, bool writable, bool repair,
                                 bool backing) {
    img::OpenRequest r;
    r.path = path;
    r.format = "qcow2";
    r.writable = writable;
    r.for_repair = repair;
    r.open_backing = backing;
    try {
        return img::open_for_command(ctx, r);
    } catch (const std::runtime_error& e) {
        FUZZ_CHECK(std::strstr(e.what(), path.c_str()) != nullptr, "an open error that does not name the image");
        return nullptr;
    }
}

int read_range(AioContext& ctx, AsyncImage& img, const Op& op, std::vector<uint8_t>& buf) {
    buf.assign(op.length, 0xcc);
    int r = ctx.run(img.read(op.offset, {{buf.data(), buf.size()}}));
    FUZZ_CHECK(r <= 0, "a read result that is neither 0 nor -errno");
    return r;
}

void block_status(AioContext& ctx, AsyncImage& img, const Op& op) {
    if (op.length == 0) return;
    BlockStatus st = ctx.run(img.block_status(op.offset, op.length));
    FUZZ_CHECK(st.length > 0 && st.length <= op.length, "a block status outside the range asked");
}

struct CheckOutcome {
    bool done = false;
    bool consistent = false;  // completed, no corruption and no error
};

CheckOutcome check(AioContext& ctx, AsyncImage& img, Qcow2Repair repair = Qcow2Repair::None) {
    Qcow2CheckResult res;
    int r = ctx.run(qcow2_check(static_cast<Qcow2Image&>(img), repair, res));
    FUZZ_CHECK(r <= 0, "a check result that is neither 0 nor -errno");
    return {r == 0, r == 0 && res.corruptions == 0 && res.check_errors == 0};
}

// Whether a cluster of the active L1 is both an L2 table and a data
// cluster (qemu-img check -r all accepts such an image once the refcounts
// count both roles). Writes that copy the table on write leave the data
// reference at refcount 1 without COPIED, which qemu-img check calls an
// error: QEMU 7.2 leaves the same two errors after the same writes (the
// crash input data-cluster-is-l2-table, checked with qemu-io).
bool l2_table_used_as_data(AioContext& ctx, Qcow2Image& q) {
    const qcow2::Geometry& g = q.geometry();
    std::set<uint64_t> tables, data;
    for (uint64_t e : q.l1_table())
        if (e & qcow2::kOffsetMask) tables.insert(e & qcow2::kOffsetMask);
    for (uint64_t table : tables) {
        std::vector<uint64_t> entries;
        if (ctx.run(q.read_table(table, g.l2_entries(), entries)) < 0) return true;  // the check says more
        for (uint64_t e : entries) {
            qcow2::L2Entry d = qcow2::decode_l2(e, g);
            if (d.kind != qcow2::ClusterKind::Compressed && d.host_offset) data.insert(g.cluster_floor(d.host_offset));
        }
    }
    return std::any_of(tables.begin(), tables.end(), [&](uint64_t t) { return data.count(g.cluster_floor(t)) > 0; });
}

void read_only_copy(const std::string& path, const std::vector<Op>& ops, bool backing) {
    AioContext ctx;
    std::unique_ptr<AsyncImage> img = open_copy(ctx, path, false, false, backing);
    if (!img) return;
    std::vector<uint8_t> buf;
    for (const Op& raw : ops) {
        Op op = placed(raw, img->size());
        read_range(ctx, *img, op, buf);
        block_status(ctx, *img, op);
    }
    img::image_info_json(*img, path);
    img::image_info_human(*img, path);
    img::snapshot_list_human(*img);
    check(ctx, *img);
}

int snapshot_op(AioContext& ctx, Qcow2Image& img, const Op& op) {
    const size_t count = img.snapshots().size();
    if (op.kind == SnapshotCreate) {
        qcow2::Snapshot sn;
        sn.id = std::to_string(count + 1);
        sn.name = "fuzz" + std::to_string(op.seed);
        return ctx.run(img.snapshot_create(sn));
    }
    const size_t index = count ? op.offset % count : 0;
    return ctx.run(op.kind == SnapshotApply ? img.snapshot_apply(index) : img.snapshot_delete(index));
}

// One operation, and when the image is consistent, what it must read
// back as afterwards.
void run_op(AioContext& ctx, AsyncImage& img, Op op, bool consistent) {
    std::vector<uint8_t> data = pattern(op.length, op.seed), back;
    int r = 0;
    switch (op.kind) {
    case Read: read_range(ctx, img, op, back); return;
    case Write: r = ctx.run(img.write(op.offset, {{data.data(), data.size()}})); break;
    case Zero:
    case ZeroUnmap:
        r = ctx.run(img.write_zeroes(op.offset, op.length, op.kind == ZeroUnmap));
        std::fill(data.begin(), data.end(), 0);
        break;
    case Discard: r = ctx.run(img.discard(op.offset, op.length)); consistent = false; break;
    case Flush: r = ctx.run(img.flush()); consistent = false; break;
    case Status: block_status(ctx, img, op); return;
    case Compressed: {  // kestrel-img convert -c: a whole cluster
        auto& q = static_cast<Qcow2Image&>(img);
        const uint64_t cluster = q.geometry().cluster_size();
        op.offset &= ~(cluster - 1);
        if (op.offset >= img.size()) return;
        op.length = std::min(cluster, img.size() - op.offset);
        r = ctx.run(q.write_compressed(op.offset, pattern(cluster, op.seed)));
        data = pattern(op.length, op.seed);
        break;
    }
    case SnapshotCreate:
    case SnapshotApply:
    case SnapshotDelete: r = snapshot_op(ctx, static_cast<Qcow2Image&>(img), op); consistent = false; break;
    case KindCount: return;
    }
    FUZZ_CHECK(r <= 0, "a result that is neither 0 nor -errno");
    if (r < 0 || !consistent) return;
    FUZZ_CHECK(read_range(ctx, img, op, back) == 0, "a consistent image cannot read back what was just written");
    FUZZ_CHECK(back == data, "a consistent image reads back other bytes than were just written");
}

void run_side_by_side(AioContext& ctx, AsyncImage& img, const std::vector<Op>& ops) {
    std::vector<std::vector<uint8_t>> bufs;
    std::vector<Task<int>> batch;
    for (const Op& op : ops) {
        bufs.push_back(pattern(op.length, op.seed));
        std::vector<iovec> iov{{bufs.back().data(), bufs.back().size()}};
        switch (op.kind) {
        case Read: case Status: case Compressed: batch.push_back(img.read(op.offset, iov)); break;
        case Write: batch.push_back(img.write(op.offset, iov)); break;
        case Zero: case ZeroUnmap: batch.push_back(img.write_zeroes(op.offset, op.length, op.kind == ZeroUnmap)); break;
        case Discard: batch.push_back(img.discard(op.offset, op.length)); break;
        default: batch.push_back(img.flush()); break;  // snapshots change the image alone
        }
    }
    FUZZ_CHECK(ctx.run(when_all(ctx, std::move(batch))) <= 0, "a result that is neither 0 nor -errno");
}

void read_write_copy(const std::string& path, const std::vector<Op>& ops, uint8_t flags, bool backing) {
    const bool repair = flags & 4;
    bool consistent = false;
    {
        AioContext ctx;
        std::unique_ptr<AsyncImage> img = open_copy(ctx, path, true, repair, backing);
        if (!img) return;
        if (repair && file_size(path) <= kCheckedFileSize) check(ctx, *img, Qcow2Repair::All);
        consistent = file_size(path) <= kCheckedFileSize && check(ctx, *img).consistent &&
                     !l2_table_used_as_data(ctx, static_cast<Qcow2Image&>(*img));
        for (const Op& raw : ops) {
            if (flags & 2) break;
            run_op(ctx, *img, placed(raw, img->size()), consistent);
        }
        if (flags & 2) {
            std::vector<Op> batch;
            for (const Op& raw : ops) batch.push_back(placed(raw, img->size()));
            run_side_by_side(ctx, *img, batch);
        }
        // Data that does not decompress marks the image corrupt (the refcounts
        // may still agree): from then on it is not written, nor checked here.
        consistent = consistent && !static_cast<Qcow2Image&>(*img).corrupt();
        if (file_size(path) <= kCheckedFileSize) {
            CheckOutcome after = check(ctx, *img);
            FUZZ_CHECK(!consistent || after.consistent, "a consistent image is corrupt after the writes");
        }
        FUZZ_CHECK(ctx.run(img->close()) <= 0, "a close result that is neither 0 nor -errno");
    }
    if (file_size(path) > kCheckedFileSize) return;
    AioContext ctx;
    std::unique_ptr<AsyncImage> img = open_copy(ctx, path, false, false, backing);
    FUZZ_CHECK(img || !consistent, "a consistent image cannot be opened again after the writes");
    if (!img) return;
    FUZZ_CHECK(!consistent || check(ctx, *img).consistent, "a consistent image is corrupt on disk after the writes");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::ByteReader in(data, size);
    const uint8_t flags = in.u8();
    const std::vector<Op> ops = read_ops(in);
    const auto image = in.rest();

    make_base_file();
    const std::string ro = fuzz::write_scratch_file("ro.qcow2", image.data(), image.size());
    const std::string rw = fuzz::write_scratch_file("rw.qcow2", image.data(), image.size());
    const bool backing = backing_is_local(image);
    read_only_copy(ro, ops, backing);
    if (flags & 1) read_write_copy(rw, ops, flags, backing);
    return 0;
}
