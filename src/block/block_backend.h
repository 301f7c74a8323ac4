#pragma once
// An open disk image (raw file or host block device) and the asynchronous
// requests a disk device sends it. Requests are submitted from one thread
// (the device's queue thread: an iothread or the main loop); their
// completions run on that same thread, from the engine's event fd (see
// completion_fd()/process_completions()), never inside submit().
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <sys/uio.h>
#include <vector>

namespace kestrel {

// QEMU's cache= modes and what they mean for the guest and the host:
//   writeback    page cache; the guest sees a volatile write cache (flush = fdatasync)
//   none         O_DIRECT; volatile write cache (flush = fdatasync)
//   writethrough page cache, every write O_DSYNC; no volatile write cache
//   directsync   O_DIRECT | O_DSYNC; no volatile write cache
//   unsafe       page cache; flushes are ignored
enum class CacheMode { Writeback, None, Writethrough, Directsync, Unsafe };

enum class AioMode { IoUring, Native, Threads };  // all served by io_uring here

struct BlockOpenOptions {
    std::string path;
    bool read_only = false;
    CacheMode cache = CacheMode::Writeback;
    AioMode aio = AioMode::Threads;
    bool discard_unmap = false;  // discard=unmap (default ignore)
    bool snapshot = false;       // snapshot=on: writes go to a temporary qcow2 overlay
    bool lock = true;            // QEMU's file locking (two writers refuse)
    uint64_t l2_cache_bytes = 0; // qcow2 l2-cache-size=; 0: QEMU's default
    bool open_backing = true;    // -blockdev backing=null: the backing file stays closed
};

enum class BlockOp { Read, Write, Flush, Discard, WriteZeroes };

struct BlockRequest {
    BlockOp op = BlockOp::Read;
    uint64_t offset = 0;            // bytes
    uint64_t length = 0;            // Discard/WriteZeroes; Read/Write: sum of iov
    std::vector<iovec> iov;         // Read/Write buffers (guest memory)
    // WriteZeroes: the guest allows the range to become a hole
    // (VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP); honoured only with discard=unmap.
    bool may_unmap = false;
    // Result: bytes transferred (or 0) on success, -errno on failure.
    std::function<void(int64_t result)> done;
};

class BlockBackend {
public:
    virtual ~BlockBackend() = default;
    virtual uint64_t size() const = 0;               // bytes
    virtual bool read_only() const = 0;
    virtual bool has_volatile_cache() const = 0;     // VIRTIO_BLK_F_FLUSH / WCE
    virtual uint32_t logical_block_size() const = 0; // 512 unless the device says more
    virtual const std::string& path() const = 0;

    virtual void submit(BlockRequest request) = 0;
    // Submits what submit() queued (requests may be batched until then).
    virtual void kick() = 0;
    // Readable when completions are pending; the owner polls it and calls
    // process_completions(), which runs the done callbacks.
    virtual int completion_fd() const = 0;
    virtual void process_completions() = 0;

    // For query-blockstats / info blockstats. WriteZeroes counts as a write,
    // Discard as an unmap. A request past the end of the image is "invalid"
    // (never reaches the host). Any thread may call stats().
    struct Stats {
        uint64_t rd_bytes = 0, wr_bytes = 0, rd_operations = 0, wr_operations = 0;
        uint64_t flush_operations = 0, unmap_operations = 0, unmap_bytes = 0;
        uint64_t failed_rd_operations = 0, failed_wr_operations = 0;
        uint64_t failed_flush_operations = 0, failed_unmap_operations = 0;
        uint64_t invalid_rd_operations = 0, invalid_wr_operations = 0;
        uint64_t invalid_flush_operations = 0, invalid_unmap_operations = 0;
        uint64_t rd_total_time_ns = 0, wr_total_time_ns = 0, flush_total_time_ns = 0;
        uint64_t unmap_total_time_ns = 0;
        uint64_t wr_highest_offset = 0;  // end of the furthest successful write
        uint64_t last_completion_ns = 0; // CLOCK_MONOTONIC; 0 = none yet (idle_time_ns)
    };
    virtual Stats stats() const = 0;

    // The image as the monitors show it (query-block's "image", "drv",
    // "backing_file"): a raw file unless a format driver says more.
    struct ImageSummary {
        std::string format = "raw";
        uint64_t cluster_size = 0;          // 0: none (raw)
        std::string backing_file;           // as the image names it
        std::string full_backing_file;      // resolved from the image's folder
        std::string backing_format;
        unsigned backing_depth = 0;         // images below this one
        // qcow2's "format-specific" facts (version 0: not qcow2)
        unsigned qcow2_version = 0, refcount_bits = 0;
        bool lazy_refcounts = false, corrupt = false;
    };
    virtual ImageSummary summary() const { return {}; }

    // HMP commit, from the monitor's thread: writes what the top image
    // holds into its backing file and empties it. 0, or -errno (-ENOTSUP
    // without a backing file).
    virtual int commit() { return -95; /* EOPNOTSUPP */ }
};

// Opens a raw image (snapshot=on is open_image_backend's). Throws
// std::runtime_error with QEMU's texts, e.g.
//   Could not open 'x.img': No such file or directory
//   Failed to get "write" lock\nIs another process using the image [x.img]?
std::unique_ptr<BlockBackend> open_raw_image(const BlockOpenOptions& options);

// Opens a qcow2 image with its backing chain, or any image (format "raw"
// or "qcow2") with snapshot=on under a temporary qcow2 overlay, as QEMU
// does. Throws std::runtime_error with QEMU's texts.
std::unique_ptr<BlockBackend> open_image_backend(const BlockOpenOptions& options, const std::string& format);

} // namespace kestrel
