// Opening a qcow2 image: the header, the active L1 table, the refcount
// table, the snapshot table, and where new clusters may go.
#include "block/async/buffer.h"
#include "block/qcow2/qcow2_check.h"
#include "block/qcow2/qcow2_image.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/stat.h>

namespace kestrel {

using namespace qcow2;

namespace {

constexpr uint64_t kHeadBytes = 2u << 20;
constexpr uint64_t kMaxAllocationStart = uint64_t(1) << 55;

std::string hex(uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%" PRIx64, v);
    return buf;
}
constexpr uint64_t kDefaultMaxL2Cache = 32u << 20;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

std::string io_error(const char* what, int err) { return std::string(what) + ": " + std::strerror(-err); }

} // namespace

Qcow2Image::Qcow2Image(AioContext& ctx, std::string filename, ImageFile file, const Qcow2OpenOptions& options)
    : ctx_(ctx), filename_(std::move(filename)), file_(std::move(file)), read_only_(options.read_only),
      cache_(options.cache), discard_unmap_(options.discard_unmap) {}

Qcow2Image::~Qcow2Image() = default;

std::unique_ptr<Qcow2Image> Qcow2Image::open(AioContext& ctx, std::string filename, ImageFile file,
                                             const Qcow2OpenOptions& options) {
    std::unique_ptr<Qcow2Image> image(new Qcow2Image(ctx, std::move(filename), std::move(file), options));
    ctx.run(image->load(options));
    return image;
}

AsyncFile Qcow2Image::io() const {
    return {file_.fd.get(), file_.buffered_fd ? file_.buffered_fd.get() : -1};
}

uint64_t Qcow2Image::allocated_bytes() const {
    struct stat st {};
    if (fstat(file_.fd.get(), &st) != 0) return 0;
    return uint64_t(st.st_blocks) * 512;
}

Task<int> Qcow2Image::read_table(uint64_t offset, uint64_t entries, std::vector<uint64_t>& out) {
    Buffer buf(entries * 8);
    int r = co_await file_read_buf(ctx_, io(), offset, buf.data(), buf.size());
    if (r < 0) co_return r;
    out = decode_table(buf.span());
    co_return 0;
}

Task<void> Qcow2Image::load(const Qcow2OpenOptions& options) {
    Buffer head(std::min<uint64_t>(std::max<uint64_t>(file_.size, 1), kHeadBytes));
    int r = co_await file_read_buf(ctx_, io(), 0, head.data(), head.size());
    if (r < 0) fail(io_error("Could not read qcow2 header", r));
    header_ = parse_header(head.span().first(std::min<uint64_t>(file_.size, head.size())),
                           !read_only_ && !options.for_repair);
    g_ = geometry_of(header_);

    r = co_await read_table(header_.l1_table_offset, header_.l1_size, l1_);
    if (r < 0) fail(io_error("Could not read L1 table", r));
    uint64_t reftable_entries = uint64_t(header_.refcount_table_clusters) << (g_.cluster_bits - 3);
    r = co_await read_table(header_.refcount_table_offset, reftable_entries, reftable_);
    if (r < 0) fail(io_error("Could not read refcount table", r));
    co_await load_snapshots();

    uint64_t l2_bytes = options.l2_cache_bytes;
    if (l2_bytes == 0) l2_bytes = std::min(kDefaultMaxL2Cache, g_.l1_entries_for(header_.size) * g_.cluster_size());
    l2_cache_limit_ = std::max<size_t>(2, size_t(l2_bytes >> g_.cluster_bits));
    refblock_cache_limit_ = std::max<size_t>(4, l2_cache_limit_ / 4);

    if (!read_only_) co_await prepare_for_writing(options);
}

Task<void> Qcow2Image::load_snapshots() {
    if (header_.nb_snapshots == 0) co_return;
    uint64_t avail = header_.snapshots_offset < file_.size ? file_.size - header_.snapshots_offset : 0;
    Buffer table(std::min<uint64_t>(avail, kMaxSnapshotTableBytes + 8 + 2 * 65535 + kMaxSnapshotExtraData));
    int r = co_await file_read_buf(ctx_, io(), header_.snapshots_offset, table.data(), table.size());
    if (r < 0) fail(io_error("Failed to read snapshot table", r));
    snapshots_ = parse_snapshot_table(table.span(), header_.nb_snapshots, header_.version);
    uint64_t at = 0;
    for (uint32_t i = 0; i < header_.nb_snapshots; i++) at += snapshot_entry_size(table.span().subspan(at));
    snapshot_table_bytes_ = at;
    for (Snapshot& sn : snapshots_)
        if (!sn.disk_size) sn.disk_size = header_.size;
}

// New clusters go after the end of the file and every table the image
// names (L1 tables, L2 tables of the active one, refcount table and
// blocks, snapshot table): kestrel writes into those in place. Refcounts
// do not move it: a count for a cluster past the end of the file is a
// leak (nothing there can be referenced: qemu-img check calls such a
// reference a corruption), or junk in a hostile image; trusting one would
// let an image of a few KiB make every new cluster land terabytes past
// its end. Such counts are dropped as the allocator reaches them
// (leftover_from_). QEMU's allocator would skip them instead, cluster by
// cluster, which needs the refcount of every cluster it passes.
Task<void> Qcow2Image::find_end_of_allocations() {
    auto end_of = [&](uint64_t offset, uint64_t bytes) { return g_.cluster_ceil(offset + bytes); };
    uint64_t end = g_.cluster_ceil(file_.size);
    end = std::max(end, end_of(header_.l1_table_offset, uint64_t(header_.l1_size) * 8));
    end = std::max(end, end_of(header_.refcount_table_offset,
                               uint64_t(header_.refcount_table_clusters) << g_.cluster_bits));
    if (header_.nb_snapshots) end = std::max(end, end_of(header_.snapshots_offset, snapshot_table_bytes_));
    for (const Snapshot& sn : snapshots_) end = std::max(end, end_of(sn.l1_table_offset, uint64_t(sn.l1_size) * 8));
    for (uint64_t entry : reftable_)
        if (entry & ~kReftableReserved) end = std::max(end, end_of(entry & ~kReftableReserved, 1));
    for (uint64_t entry : l1_)
        if (entry & kOffsetMask) end = std::max(end, end_of(entry & kOffsetMask, 1));
    // New clusters are handed out from there on, and host offsets end at
    // 2^56 (the L1/L2 entries' offset field): an image whose tables point
    // past half of that (a corrupt or hostile one) is not written to, or
    // its new tables would get offsets their entries cannot hold.
    if (end > kMaxAllocationStart)
        fail("Could not prepare the image for writing: its metadata reaches offset 0x" + hex(end) +
             ", past what qcow2 can address");
    next_cluster_ = end >> g_.cluster_bits;
    leftover_from_ = next_cluster_;
    co_return;
}

// Opened read-write: auto-clear features we do not maintain (bitmaps) are
// cleared as the format requires; a dirty image (lazy refcounts after a
// crash) has its refcounts rebuilt.
Task<void> Qcow2Image::prepare_for_writing(const Qcow2OpenOptions& options) {
    co_await find_end_of_allocations();
    bool changed = false;
    if (header_.autoclear_features) {
        header_.autoclear_features = 0;
        changed = true;
    }
    if (header_.dirty() && !options.for_repair) {  // (check -r repairs it itself)
        if (!options.repair_dirty) fail("Could not repair dirty image: repair not allowed");
        Qcow2CheckResult result;
        int r = co_await qcow2_check(*this, Qcow2Repair::All, result);
        if (r < 0 || result.corruptions > result.corruptions_fixed)
            fail("Could not repair dirty image" + (r < 0 ? io_error("", r) : std::string()));
        header_.incompatible_features &= ~kIncompatDirty;
        changed = true;
    }
    if (changed) {
        int r = co_await rewrite_header();
        if (r < 0) fail(io_error("Could not update qcow2 header", r));
    }
}

} // namespace kestrel
