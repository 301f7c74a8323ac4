#pragma once
// What the monitors show of the machine's disks (query-block,
// query-blockstats, info block), and the service that answers it
// (registered by the machine, found through its ServiceRegistry).
#include "base/service_registry.h"
#include "block/block_backend.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

// One disk as query-block / info block show it.
struct BlockDeviceInfo {
    std::string device;        // -drive id= (QEMU's "device"), "" for -blockdev-only
    std::string qdev;          // "/machine/peripheral/ID/virtio-backend" or peripheral-anon path
    std::string node_name;     // "#blockNNN" as QEMU autogenerates
    unsigned created = 0;      // QEMU's creation order of nodes: -blockdev ones, then -drive ones
    bool has_backend = true;   // false: a -blockdev node no device uses (query-block omits it)
    std::string file;          // image path
    std::string format = "raw";
    uint64_t cluster_size = 0;       // qcow2 (query-block image "cluster-size")
    std::string backing_file;        // as the image names it ("" = none)
    std::string full_backing_file;
    std::string backing_format;
    unsigned backing_file_depth = 0;
    BlockBackend::ImageSummary qcow2;  // query-block "format-specific" (qcow2_version 0: none)
    bool read_only = false;
    bool removable_medium = false;  // a CD-ROM drive's medium
    bool tray = false;              // its device has a tray (query-block "tray_open")
    bool tray_open = false, locked = false;
    bool inserted = true;           // false: a removable drive without a medium (no image, no nodes)
    bool writeback = true;     // cache.writeback
    bool direct = false;       // cache.direct
    bool no_flush = false;     // cache.no-flush
    std::string discard = "ignore";
    uint64_t virtual_size = 0;
    uint64_t actual_size = 0;  // bytes allocated on the host
    // The protocol node under the format node: QEMU's second "#blockNNN"
    // ("info block -n", query-blockstats "parent") and its driver, "file"
    // for a regular file or "host_device" for a block device.
    std::string file_node_name;
    std::string file_driver = "file";
    uint64_t file_size = 0;  // the file node's size (bytes of the file itself)
    // query-blockstats
    uint64_t rd_bytes = 0, wr_bytes = 0, rd_operations = 0, wr_operations = 0;
    uint64_t flush_operations = 0, unmap_operations = 0, unmap_bytes = 0;
    uint64_t failed_rd_operations = 0, failed_wr_operations = 0;
    uint64_t rd_total_time_ns = 0, wr_total_time_ns = 0, flush_total_time_ns = 0;
    uint64_t failed_flush_operations = 0, failed_unmap_operations = 0, unmap_total_time_ns = 0;
    uint64_t rd_merged = 0, wr_merged = 0;   // requests merged into others (0: none)
    uint64_t wr_highest_offset = 0;          // end of the highest write, bytes
    // Nanoseconds since the last request completed; absent before the first.
    std::optional<uint64_t> idle_time_ns;
    // The file node's discard results (query-blockstats "driver-specific").
    uint64_t discard_nb_ok = 0, discard_nb_failed = 0, discard_bytes_ok = 0;
};

class BlockService {
public:
    virtual ~BlockService() = default;
    virtual std::vector<BlockDeviceInfo> block_devices() const = 0;
    // HMP commit DEVICE|all: the drive's top image (a snapshot=on overlay,
    // or a qcow2 image) into its backing file. 0 or -errno; throws
    // std::invalid_argument("Device 'X' not found") or "... has no medium".
    virtual int commit(const std::string& device) = 0;
};

// The disks a machine's BlockService reports; none without one.
inline std::vector<BlockDeviceInfo> block_devices_of(const ServiceRegistry& services) {
    const BlockService* block = services.find<BlockService>();
    return block ? block->block_devices() : std::vector<BlockDeviceInfo>{};
}

} // namespace kestrel
