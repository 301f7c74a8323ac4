#include "block/drive_set.h"

#include "block/block_stats.h"
#include "block/image/image_open.h"

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <stdexcept>
#include <sys/stat.h>

namespace kestrel {
namespace {

CacheMode cache_mode(const DriveConfig& d) {
    if (d.cache_no_flush) return CacheMode::Unsafe;
    if (d.cache_direct) return d.cache_writeback ? CacheMode::None : CacheMode::Directsync;
    return d.cache_writeback ? CacheMode::Writeback : CacheMode::Writethrough;
}

AioMode aio_mode(const std::string& aio) {
    if (aio == "io_uring") return AioMode::IoUring;
    return aio == "native" ? AioMode::Native : AioMode::Threads;
}

std::shared_ptr<BlockBackend> open_drive(const DriveConfig& d) {
    BlockOpenOptions o;
    o.path = d.file;
    o.read_only = d.read_only;
    o.cache = cache_mode(d);
    o.aio = aio_mode(d.aio);
    o.discard_unmap = d.discard == "unmap";
    o.snapshot = d.snapshot;
    o.l2_cache_bytes = d.l2_cache_size;
    try {
        std::string format = d.format.empty() ? probe_image_format(d.file) : d.format;
        std::shared_ptr<BlockBackend> backend = format == "qcow2" || (d.snapshot && !d.read_only)
                                                    ? open_image_backend(o, format)
                                                    : open_raw_image(o);
        // QEMU warns only where the guest could write (so not for a CD-ROM).
        if (format == "raw" && d.format.empty() && !d.read_only) std::cerr << image_probe_warning(d.file);
        return backend;
    } catch (const std::exception& e) {
        throw std::runtime_error(d.location + ": " + e.what());
    }
}

void add_stats(BlockDeviceInfo& b, const BlockBackend::Stats& s) {
    b.rd_bytes = s.rd_bytes;
    b.wr_bytes = s.wr_bytes;
    b.rd_operations = s.rd_operations;
    b.wr_operations = s.wr_operations;
    b.flush_operations = s.flush_operations;
    b.unmap_operations = s.unmap_operations;
    b.unmap_bytes = s.unmap_bytes;
    b.failed_rd_operations = s.failed_rd_operations;
    b.failed_wr_operations = s.failed_wr_operations;
    b.failed_flush_operations = s.failed_flush_operations;
    b.failed_unmap_operations = s.failed_unmap_operations;
    b.rd_total_time_ns = s.rd_total_time_ns;
    b.wr_total_time_ns = s.wr_total_time_ns;
    b.flush_total_time_ns = s.flush_total_time_ns;
    b.unmap_total_time_ns = s.unmap_total_time_ns;
    b.wr_highest_offset = s.wr_highest_offset;
    if (s.last_completion_ns) b.idle_time_ns = block_clock_ns() - s.last_completion_ns;
}

} // namespace

std::string image_probe_warning(const std::string& file) {
    return "WARNING: Image format was not specified for '" + file +
           "' and probing guessed raw.\n"
           "         Automatically detecting the format is dangerous for raw images, "
           "write operations on block 0 will be restricted.\n"
           "         Specify the 'raw' format explicitly to remove the restrictions.";
}

std::shared_ptr<BlockBackend> DriveSet::open(const std::string& id, const std::string& qdev) {
    auto drive = std::find_if(drives_.begin(), drives_.end(), [&](const DriveConfig& d) { return d.id == id; });
    if (drive == drives_.end()) throw std::logic_error("drive '" + id + "' not found");
    if (drive->file.empty()) {  // a removable drive without a medium: no nodes
        open_.push_back({&*drive, qdev, {}, {}, nullptr});
        return nullptr;
    }
    // QEMU's automatic node names: a file node and a format node per image.
    unsigned n = unsigned(std::count_if(open_.begin(), open_.end(), [](const Open& o) { return o.backend; }));
    Open o{&*drive, qdev, "#block" + std::to_string(100 + 2 * n + 1), "#block" + std::to_string(100 + 2 * n),
           open_drive(*drive)};
    open_.push_back(o);
    return o.backend;
}

int DriveSet::commit(const std::string& device) {
    if (device == "all") {
        for (Open& o : open_) {
            if (!o.backend) continue;
            int r = o.backend->commit();
            if (r < 0 && r != -ENOTSUP) return r;
        }
        return 0;
    }
    for (Open& o : open_) {
        if (o.drive->id != device) continue;
        if (!o.backend) throw std::invalid_argument("Device '" + device + "' has no medium");
        return o.backend->commit();
    }
    throw std::invalid_argument("Device '" + device + "' not found");
}

std::vector<BlockDeviceInfo> DriveSet::block_devices() const {
    std::vector<BlockDeviceInfo> out;
    for (const Open& o : open_) {
        const DriveConfig& d = *o.drive;
        BlockDeviceInfo b;
        b.device = d.id;
        b.qdev = o.qdev;
        b.removable_medium = d.cdrom;
        if (!o.backend) {
            b.inserted = false;
            out.push_back(std::move(b));
            continue;
        }
        b.node_name = o.node_name;
        b.file_node_name = o.file_node_name;
        b.file = d.file;
        b.read_only = o.backend->read_only();
        b.removable_medium = d.cdrom;
        b.writeback = d.cache_writeback;
        b.direct = d.cache_direct;
        b.no_flush = d.cache_no_flush;
        b.discard = d.discard;
        b.virtual_size = o.backend->size();
        BlockBackend::ImageSummary image = o.backend->summary();
        b.format = image.format;
        b.cluster_size = image.cluster_size;
        b.backing_file = image.backing_file;
        b.full_backing_file = image.full_backing_file;
        b.backing_format = image.backing_format;
        b.backing_file_depth = image.backing_depth;
        struct stat st{};
        if (stat(d.file.c_str(), &st) == 0) {
            b.actual_size = uint64_t(st.st_blocks) * 512;
            if (S_ISBLK(st.st_mode)) b.file_driver = "host_device";
        }
        add_stats(b, o.backend->stats());
        out.push_back(std::move(b));
    }
    return out;
}

} // namespace kestrel
