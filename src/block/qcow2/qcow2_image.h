#pragma once
// A qcow2 image (version 2 or 3) as an AsyncImage on io_uring.
//
// Metadata lives in memory while the image is open: the L1 table and the
// refcount table whole, L2 tables and refcount blocks in caches. A write
// that needs a new cluster takes it from the end of the file, writes its
// data (with the copied-on-write rest of the cluster) and then links it in
// the cached L2 table; refcount changes wait as deltas. No request waits
// for another's allocation unless both touch the same guest cluster.
//
// Metadata reaches the file in writeback(), which keeps the image
// consistent on disk at every moment (qemu-img check finds at most leaked
// clusters after a crash at any point):
//   1. refcount increments and newly allocated L2 tables are written,
//   2. flush (the data written so far is on disk as well),
//   3. the changed L2 tables and L1 entries are written,
//   4. refcount decrements (clusters freed by discards and copy-on-write)
//      are written; the freed clusters are never reused while open.
// So a reference is only ever written after the refcount that covers it,
// and a refcount only drops after the reference has gone. A guest flush
// runs writeback() then flushes again; with a cache mode without a
// volatile cache every allocating write waits for writeback().
#include "block/async/co_sync.h"
#include "block/async/file_io.h"
#include "block/block_backend.h"
#include "block/image/async_image.h"
#include "block/image_file.h"
#include "block/qcow2/qcow2_check.h"
#include "block/qcow2/qcow2_create.h"
#include "block/qcow2/qcow2_format.h"

#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace kestrel {

struct Qcow2OpenOptions {
    bool read_only = true;
    CacheMode cache = CacheMode::Writeback;
    bool discard_unmap = false;     // discard=unmap: guest discards free clusters
    uint64_t l2_cache_bytes = 0;    // 0: enough for the whole disk, at most 32 MiB (QEMU's default)
    bool repair_dirty = true;       // a dirty image opened read-write has its refcounts rebuilt
    bool for_repair = false;        // check -r: a corrupt image may be opened read-write
};

class Qcow2Image final : public AsyncImage {
public:
    // Reads the header, the L1, refcount and snapshot tables. Throws
    // std::runtime_error with QEMU's texts (qcow2::FormatError).
    static std::unique_ptr<Qcow2Image> open(AioContext& ctx, std::string filename, ImageFile file,
                                            const Qcow2OpenOptions& options);
    ~Qcow2Image() override;

    const std::string& filename() const override { return filename_; }
    const char* format_name() const override { return "qcow2"; }
    uint64_t size() const override { return header_.size; }
    bool read_only() const override { return read_only_; }
    AsyncImage* backing() const override { return backing_.get(); }
    uint64_t allocated_bytes() const override;

    Task<int> read(uint64_t offset, std::vector<iovec> iov) override;
    Task<int> write(uint64_t offset, std::vector<iovec> iov) override;
    Task<int> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
    Task<int> discard(uint64_t offset, uint64_t length) override;
    Task<int> flush() override;
    Task<BlockStatus> block_status(uint64_t offset, uint64_t max_length) override;
    Task<int> close() override;

    const qcow2::Header& header() const { return header_; }
    const qcow2::Geometry& geometry() const { return g_; }
    const std::vector<qcow2::Snapshot>& snapshots() const { return snapshots_; }
    void set_backing(std::unique_ptr<AsyncImage> backing) { backing_ = std::move(backing); }
    bool corrupt() const { return corrupt_; }
    AioContext& context() { return ctx_; }
    AsyncFile io() const;
    uint64_t file_size() const { return file_.size; }
    // The end of the last cluster in use (qemu-img check's "Image end offset").
    uint64_t next_free_offset() const { return next_cluster_ << g_.cluster_bits; }

    // kestrel-img (qcow2_image_ops.cpp): writes that change the header.
    Task<int> rewrite_header();
    Task<int> write_compressed(uint64_t offset, std::vector<uint8_t> cluster_data);
    Task<int> resize(uint64_t new_size);
    Task<int> grow_l1(uint64_t entries);
    // rebase: a new backing file name and format in the header (-ENOSPC
    // when they do not fit in the first cluster).
    Task<int> change_backing_file(std::string name, std::string format);
    // commit: drops every cluster of the active L1 (the image reads
    // through to its backing file again).
    Task<int> make_empty();
    // amend: a new header (compat level, lazy refcounts). Downgrading to
    // v2 fails with -EEXIST when zero clusters exist, -EBUSY with snapshots.
    Task<int> amend_header(qcow2::Header header);
    // check -r: clears the dirty and corrupt bits after a repair.
    Task<int> mark_consistent();
    // Allocates every cluster (preallocation=metadata), and reserves
    // (falloc) or writes (full) their space.
    Task<int> preallocate(Preallocation mode);
    // Refcount of a host cluster as on disk plus uncommitted changes, in
    // *refcount (a 64-bit count may use all 64 bits); 0 or -errno.
    Task<int> refcount_of(uint64_t cluster_index, uint64_t* refcount);
    // The same for [first, first + count), clusters of one refcount block.
    Task<int> refcounts_of(uint64_t first, uint64_t count, std::vector<uint64_t>& out);
    Task<int> change_refcounts(std::map<uint64_t, int64_t> deltas);  // applied at the next writeback
    Task<int> writeback();
    // Internal snapshots (qcow2_snapshots.cpp).
    Task<int> snapshot_create(qcow2::Snapshot snapshot);
    Task<int> snapshot_apply(size_t index);
    Task<int> snapshot_delete(size_t index);
    std::vector<uint64_t> l1_table() const { return l1_; }
    const std::vector<uint64_t>& reftable() const { return reftable_; }
    uint64_t current_file_size() const;
    uint64_t snapshot_table_bytes() const { return snapshot_table_bytes_; }
    // qemu-img check -r all: COPIED flags that disagree with the refcounts.
    void set_copied_flag_l1(size_t index, bool copied);
    Task<void> set_copied_flag_l2(size_t l1_index, size_t l2_index, bool copied);
    Task<int> read_table(uint64_t offset, uint64_t entries, std::vector<uint64_t>& out);
    // Clusters handed out since open (new data, tables); freed ones are not reused.
    uint64_t allocate_clusters(uint64_t count);

private:
    struct L2Table {
        std::vector<uint64_t> entries;
        bool loading = false;
        bool dirty = false;
        bool is_new = false;   // allocated since the last writeback: not referenced on disk yet
        unsigned writing = 0;  // writebacks in flight: not evictable
        int load_error = 0;
        uint64_t last_use = 0;
        WaitQueue loaded;
    };
    struct RefBlock {
        std::vector<uint8_t> data;
        bool dirty = false;
        bool loading = false;
        int load_error = 0;
        uint64_t last_use = 0;
        WaitQueue loaded;
    };

    Qcow2Image(AioContext& ctx, std::string filename, ImageFile file, const Qcow2OpenOptions& options);
    Task<void> load(const Qcow2OpenOptions& options);
    Task<void> load_snapshots();
    Task<void> find_end_of_allocations();
    Task<void> prepare_for_writing(const Qcow2OpenOptions& options);

    // L2 cache (qcow2_l2_cache.cpp). After a successful co_await, *out is
    // the table (nullptr: L1 entry empty) and stays valid until the caller
    // next suspends.
    Task<int> get_l2(uint64_t l1_index, L2Table** out);
    Task<int> get_l2_at(uint64_t l2_offset, L2Table** out);
    // The same, but the table exists and is this image's own (COPIED):
    // allocated or copied on write first.
    Task<int> get_l2_for_write(uint64_t l1_index, L2Table** out);
    void evict_l2();
    void mark_dirty(uint64_t l2_offset, L2Table* t);

    // Reading (qcow2_read.cpp).
    Task<int> read_cluster_range(uint64_t entry, uint64_t guest, std::vector<iovec> iov);
    Task<int> read_compressed(qcow2::L2Entry e, uint64_t in_cluster, std::vector<iovec> iov);
    Task<int> read_backing(uint64_t guest, std::vector<iovec> iov);

    // Writing (qcow2_write.cpp, qcow2_zero.cpp).
    Task<int64_t> plan_write_step(uint64_t pos, const std::vector<iovec>& iov, uint64_t iov_pos, uint64_t left,
                                  std::vector<Task<int>>& parts);
    Task<int> write_in_place(uint64_t pos, uint64_t host, std::vector<iovec> data);
    Task<int> write_allocating(uint64_t pos, uint64_t host, uint64_t clusters, std::vector<iovec> data,
                               std::vector<uint64_t> old_entries);
    Task<int> link_clusters(uint64_t first_cluster, uint64_t host, uint64_t count);
    bool reads_as_zero(uint64_t entry, uint64_t guest) const;
    // Drops the reference an L2 entry held (refcount deltas).
    void release_entry(uint64_t entry);
    bool cluster_busy(uint64_t guest_cluster) const { return busy_.count(guest_cluster) != 0; }
    Task<void> wait_busy(uint64_t guest_cluster);
    void set_busy(uint64_t first, uint64_t count);
    void clear_busy(uint64_t first, uint64_t count);
    bool durable_writes() const { return cache_ == CacheMode::Writethrough || cache_ == CacheMode::Directsync; }
    uint64_t zeroed_entry(uint64_t old, bool unmap, bool discard) const;
    Task<int> zero_clusters(uint64_t first_cluster, uint64_t count, bool unmap, bool discard);
    Task<int> write_zeroes_slow(uint64_t offset, uint64_t length);

    // Refcounts (qcow2_refcount.cpp).
    void add_delta(uint64_t cluster, int64_t delta);
    // The count a loaded block stores for `cluster`, as far as it is one
    // (see leftover_from_).
    uint64_t stored_refcount(const RefBlock* block, uint64_t cluster) const;
    // Count plus delta; false when it would leave 0..refcount_max (*err:
    // -EIO and the image marked corrupt below 0, -ERANGE above).
    bool add_refcount(uint64_t cluster, uint64_t count, int64_t delta, uint64_t* out, int* err);
    void note_counted(uint64_t cluster);
    Task<int> get_refblock(uint64_t index, RefBlock** out);
    Task<int> apply_deltas(std::map<uint64_t, int64_t>& deltas, std::vector<uint64_t>& freed,
                           std::map<uint64_t, int64_t>& later);
    Task<int> prepare_refblocks(std::map<uint64_t, int64_t>& deltas, std::map<uint64_t, int64_t>& later);
    Task<int> write_dirty_refblocks();
    Task<int> grow_reftable(uint64_t min_entries, std::map<uint64_t, int64_t>& deltas,
                            std::map<uint64_t, int64_t>& later);
    Task<int> write_reftable_entries();
    void evict_refblocks();

    // Snapshots (qcow2_snapshots.cpp).
    Task<int> add_l1_references(std::vector<uint64_t> l1, int64_t delta);
    Task<int> update_copied_flags();
    Task<int> write_snapshot_table(std::vector<qcow2::Snapshot> list);

    // Writeback (qcow2_writeback.cpp).
    struct TableWriteRef {
        uint64_t offset;
        const uint8_t* data;
        size_t length;
    };
    Task<int> do_writeback(bool flush_after);
    Task<int> writeback_locked(bool flush_after);
    Task<int> write_tables(std::vector<TableWriteRef> tables);
    Task<int> write_l1_entries(std::set<uint64_t> indices);
    Task<int> sync_file();
    void mark_corrupt(const std::string& what);
    // Whether host bytes [start, end) hold metadata (QEMU's overlap check).
    bool overlaps_metadata(uint64_t start, uint64_t end) const;

    friend Task<int> qcow2_check(Qcow2Image& image, Qcow2Repair repair, Qcow2CheckResult& result);

    AioContext& ctx_;
    std::string filename_;
    ImageFile file_;
    bool read_only_;
    CacheMode cache_;
    bool discard_unmap_;
    qcow2::Header header_;
    qcow2::Geometry g_;
    std::unique_ptr<AsyncImage> backing_;
    std::vector<qcow2::Snapshot> snapshots_;
    bool corrupt_ = false;

    std::vector<uint64_t> l1_;
    std::set<uint64_t> dirty_l1_;
    std::unordered_map<uint64_t, std::unique_ptr<L2Table>> l2_cache_;  // by host offset
    std::set<uint64_t> dirty_l2_;
    size_t l2_cache_limit_ = 16;
    uint64_t use_clock_ = 0;

    std::vector<uint64_t> reftable_;
    std::set<uint64_t> dirty_reftable_;
    std::unordered_map<uint64_t, std::unique_ptr<RefBlock>> refblocks_;  // by reftable index
    size_t refblock_cache_limit_ = 64;
    bool new_refblocks_ = false;          // created since the table entries were written
    bool moved_reftable_ = false;         // a larger table waits to be written
    uint64_t moved_reftable_first_ = 0;   // its first cluster
    uint64_t moved_reftable_clusters_ = 0;

    uint64_t compressed_cursor_ = 0;            // where the next compressed cluster goes
    uint64_t snapshot_table_bytes_ = 0;
    uint64_t next_cluster_ = 0;                 // bump allocator: first never-used cluster
    // Where the allocator started (opened read-write). Nothing at or past
    // it can be in use (it lies past the end of the file and every table
    // the image names), so a count stored for such a cluster is a leftover
    // (a leak, or a hostile image's junk), taken as 0 until kestrel writes
    // the cluster's count itself (counted_since_open_, from this cluster on).
    uint64_t leftover_from_ = UINT64_MAX;
    std::vector<bool> counted_since_open_;
    std::map<uint64_t, int64_t> deltas_;        // refcount changes not written yet
    std::unordered_map<uint64_t, std::unique_ptr<WaitQueue>> busy_;  // guest clusters being allocated
    CoMutex writeback_lock_;
    bool needs_writeback_ = false;
};

} // namespace kestrel
