#include "block/drive_set.h"
#include "base/monotonic_clock.h"

#include "block/block_stats.h"
#include "block/image/image_open.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <sys/stat.h>
#include <tuple>

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

bool same_file(const std::string& a, const std::string& b) {
    std::error_code ec1, ec2;
    return std::filesystem::weakly_canonical(a, ec1) == std::filesystem::weakly_canonical(b, ec2) && !ec1 && !ec2;
}

// -blockdev backing=NODE: kestrel opened the image's own backing chain;
// it must be the one the node names.
void check_backing_node(const DriveConfig& d, const BlockBackend& backend) {
    if (d.expected_backing_file.empty()) return;
    BlockBackend::ImageSummary image = backend.summary();
    if (!same_file(image.full_backing_file, d.expected_backing_file))
        throw std::runtime_error("the image's backing file is '" + image.full_backing_file + "', not the backing node's '" +
                                 d.expected_backing_file + "' (kestrel opens the chain the image names)");
    if (!image.backing_format.empty() && image.backing_format != d.expected_backing_format)
        throw std::runtime_error("the image's backing format is '" + image.backing_format + "', not the backing node's '" +
                                 d.expected_backing_format + "'");
}

} // namespace

// Throws std::runtime_error "<location>: <reason>" (no prefix without a location).
std::shared_ptr<BlockBackend> open_drive(const DriveConfig& d) {
    BlockOpenOptions o;
    o.path = d.file;
    o.read_only = d.read_only;
    o.cache = cache_mode(d);
    o.aio = aio_mode(d.aio);
    o.discard_unmap = d.discard == "unmap";
    o.snapshot = d.snapshot;
    o.l2_cache_bytes = d.l2_cache_size;
    o.lock = d.lock;
    o.open_backing = d.open_backing;
    try {
        std::string format = d.format.empty() ? probe_image_format(d.file) : d.format;
        std::shared_ptr<BlockBackend> backend = format == "qcow2" || (d.snapshot && !d.read_only)
                                                    ? open_image_backend(o, format)
                                                    : open_raw_image(o);
        check_backing_node(d, *backend);
        // QEMU warns only where the guest could write (so not for a CD-ROM).
        if (format == "raw" && d.format.empty() && !d.read_only) std::cerr << image_probe_warning(d.file);
        return backend;
    } catch (const std::exception& e) {
        throw std::runtime_error(d.location.empty() ? std::string(e.what()) : d.location + ": " + e.what());
    }
}

namespace {

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
    if (s.last_completion_ns) b.idle_time_ns = monotonic_ns() - s.last_completion_ns;
}

// QEMU opens every -blockdev before the first -drive.
unsigned creation_order(const std::vector<DriveConfig>& drives, const DriveConfig& d) {
    unsigned blockdevs = unsigned(std::count_if(drives.begin(), drives.end(), [](auto& x) { return x.blockdev; }));
    unsigned index = unsigned(&d - drives.data());
    return d.blockdev ? index - unsigned(drives.size() - blockdevs) : blockdevs + index;
}

} // namespace

std::string image_probe_warning(const std::string& file) {
    return "WARNING: Image format was not specified for '" + file +
           "' and probing guessed raw.\n"
           "         Automatically detecting the format is dangerous for raw images, "
           "write operations on block 0 will be restricted.\n"
           "         Specify the 'raw' format explicitly to remove the restrictions.";
}

std::pair<std::string, std::string> DriveSet::next_node_names() {
    unsigned n = images_opened_++;
    return {"#block" + std::to_string(100 + 2 * n + 1), "#block" + std::to_string(100 + 2 * n)};
}

std::shared_ptr<BlockBackend> DriveSet::open(const std::string& id, const std::string& qdev) {
    const DriveConfig* drive = find_config(id);
    if (!drive) throw std::logic_error("drive '" + id + "' not found");
    // Opened at start-up for no device (or left by an unplugged one): the
    // device takes that backend, whose image is open and locked already.
    for (Open& open : open_) {
        if (open.drive == drive && open.qdev.empty() && !open.lent && !open.anonymous && open.backend) {
            open.qdev = qdev;
            return open.backend;
        }
    }
    Open o{drive, qdev, {}, {}, nullptr};
    o.read_only = drive->read_only;
    if (drive->file.empty()) {  // a removable drive without a medium: no nodes
        open_.push_back(o);
        return nullptr;
    }
    // QEMU's automatic node names: a file node and a format node per image.
    std::tie(o.node_name, o.file_node_name) = next_node_names();
    o.backend = open_drive(*drive);
    o.file = drive->file;
    o.protocol_only = drive->protocol_only;
    if (!drive->node_name.empty()) o.node_name = drive->node_name;
    if (!drive->file_node_name.empty()) o.file_node_name = drive->file_node_name;
    if (drive->protocol_only) o.file_node_name.clear();  // the device's node is the file node
    open_.push_back(o);
    return o.backend;
}

const DriveConfig* DriveSet::find_config(const std::string& id) const {
    for (const DriveConfig& d : drives_)
        if (d.id == id) return &d;
    for (auto it = added_.rbegin(); it != added_.rend(); ++it)  // a node added again: the newest
        if (it->id == id) return &*it;
    return nullptr;
}

// query-named-block-nodes lists the newest first: -blockdev, -drive, the
// anonymous drives, then blockdev-add's nodes.
unsigned DriveSet::created(const Open& o) const {
    if (o.anonymous) return unsigned(drives_.size() + size_t(&o - open_.data()));
    unsigned i = 0;
    for (const DriveConfig& d : added_) {
        if (&d == o.drive) return unsigned(drives_.size() + open_.size()) + i;
        ++i;
    }
    return creation_order(drives_, *o.drive);
}

void DriveSet::add_node(const DriveConfig& drive) {
    added_.push_back(drive);
    try {
        open(drive.id, "");
    } catch (...) {
        added_.pop_back();
        throw;
    }
}

bool DriveSet::remove_node(const std::string& id) {
    for (auto it = open_.begin(); it != open_.end(); ++it) {
        if (it->anonymous || it->drive->id != id || !it->drive->blockdev) continue;
        if (!it->qdev.empty() || it->lent) return false;
        const DriveConfig* config = it->drive;
        const int gone = int(it - open_.begin());
        open_.erase(it);
        for (Open& o : open_)
            if (o.node_source > gone) --o.node_source;
        added_.remove_if([&](const DriveConfig& d) { return &d == config; });
        return true;
    }
    return true;
}

std::string DriveSet::release(const std::string& qdev) {
    for (auto it = open_.begin(); it != open_.end(); ++it) {
        if (qdev.empty() || it->qdev != qdev) continue;
        if (it->drive->blockdev) {
            it->qdev.clear();
            return "";
        }
        std::string id = it->drive->id;
        const int gone = int(it - open_.begin());
        open_.erase(it);
        for (Open& o : open_)  // entries name their medium's source by index
            if (o.node_source > gone) --o.node_source;
        return id;
    }
    return "";
}

void DriveSet::open_anonymous(const std::string& qdev) {
    DriveConfig& d = anonymous_.emplace_back();
    d.blockdev = true;  // no name as a drive
    d.cdrom = true;
    d.read_only = true;  // QEMU opens its media without write access
    Open o{&d, qdev, {}, {}, nullptr};
    o.read_only = true;
    o.anonymous = true;
    open_.push_back(o);
}

void DriveSet::open_unused() {
    for (const DriveConfig& d : drives_) {
        if (d.file.empty()) continue;  // an empty if=none drive: nothing to open
        bool taken = std::any_of(open_.begin(), open_.end(), [&](const Open& o) { return o.drive == &d; });
        if (!taken) open(d.id, "");
    }
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
        if (o.lent) continue;
        const DriveConfig& d = *o.drive;
        BlockDeviceInfo b;
        b.device = d.blockdev ? "" : d.id;
        b.has_backend = !d.blockdev || !o.qdev.empty();
        // A -blockdev node inserted here keeps its place among the nodes.
        const Open& origin = o.node_source >= 0 ? open_[size_t(o.node_source)] : o;
        b.created = created(origin);
        b.qdev = o.qdev;
        b.removable_medium = d.cdrom || o.removable;
        if (o.removable) {
            b.tray = true;
            b.tray_open = o.removable->tray_open();
            b.locked = o.removable->medium_locked();
        }
        if (!o.backend) {
            b.inserted = false;
            out.push_back(std::move(b));
            continue;
        }
        b.node_name = o.node_name;
        b.file_node_name = o.file_node_name;
        b.file = o.file;
        b.read_only = o.backend->read_only();
        b.writeback = d.cache_writeback;
        b.direct = d.cache_direct;
        b.no_flush = d.cache_no_flush;
        b.discard = d.discard;
        b.virtual_size = o.backend->size();
        BlockBackend::ImageSummary image = o.backend->summary();
        b.format = o.protocol_only ? "file" : image.format;
        b.cluster_size = image.cluster_size;
        b.backing_file = image.backing_file;
        b.full_backing_file = image.full_backing_file;
        b.backing_format = image.backing_format;
        b.backing_file_depth = image.backing_depth;
        b.qcow2 = image;
        struct stat st{};
        if (stat(o.file.c_str(), &st) == 0) {
            b.actual_size = uint64_t(st.st_blocks) * 512;
            // QEMU counts a file node in whole 512-byte sectors.
            b.file_size = S_ISBLK(st.st_mode) ? b.virtual_size : (uint64_t(st.st_size) + 511) / 512 * 512;
            if (S_ISBLK(st.st_mode)) b.file_driver = "host_device";
        }
        add_stats(b, o.backend->stats());
        out.push_back(std::move(b));
    }
    return out;
}

} // namespace kestrel
