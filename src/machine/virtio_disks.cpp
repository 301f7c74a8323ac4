#include "machine/virtio_disks.h"

#include "block/block_backend.h"
#include "block/block_stats.h"
#include "config/drive_probe.h"
#include "devices/pci/pci_bus.h"
#include "kvm/guest_memory.h"
#include "kvm/vm.h"
#include "virtio/blk/virtio_blk.h"
#include "virtio/pci/virtio_pci_device.h"
#include "virtio/pci/vm_plumbing.h"

#include <algorithm>
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

const DriveConfig& drive_named(const Config& cfg, const std::string& id) {
    auto it = std::find_if(cfg.drives.begin(), cfg.drives.end(), [&](const DriveConfig& d) { return d.id == id; });
    if (it == cfg.drives.end()) throw std::runtime_error("drive '" + id + "' not found");
    return *it;
}

std::shared_ptr<BlockBackend> open_drive(const DriveConfig& d) {
    BlockOpenOptions o;
    o.path = d.file;
    o.read_only = d.read_only;
    o.cache = cache_mode(d);
    o.aio = aio_mode(d.aio);
    o.discard_unmap = d.discard == "unmap";
    o.snapshot = d.snapshot;
    try {
        std::shared_ptr<BlockBackend> backend = open_raw_image(o);
        if (d.format.empty()) std::cerr << image_probe_warning(d.file);
        return backend;
    } catch (const std::exception& e) {
        throw std::runtime_error(d.location + ": " + e.what());
    }
}

// QEMU 7.2's num-queues=auto for virtio-blk-pci: one queue per vCPU.
uint16_t queue_count(const DeviceConfig& device, const Config& cfg) {
    unsigned n = device.num_queues.value_or(cfg.smp.cpus);
    return uint16_t(std::clamp(n, 1u, 64u));
}

} // namespace

VirtioDisks::VirtioDisks(const VirtioDiskSetup& setup) {
    for (const IothreadConfig& io : setup.cfg.iothreads) threads_.push_back(std::make_unique<IoThread>(io.id));
    unsigned anon = 0;
    for (const DeviceConfig& device : setup.cfg.devices) {
        if (device.driver != "virtio-blk-pci") continue;
        add_disk(setup, device, device.id.empty() ? anon++ : 0);
    }
}

VirtioDisks::~VirtioDisks() { stop_threads(); }

void VirtioDisks::stop_threads() { threads_.clear(); }

IoThread& VirtioDisks::thread_for(const DeviceConfig& device, const std::string& name) {
    if (!device.iothread.empty()) {
        for (auto& t : threads_)
            if (t->id() == device.iothread) return *t;
        throw std::runtime_error(device.location + ": iothread '" + device.iothread + "' not found");
    }
    threads_.push_back(std::make_unique<IoThread>(name));
    return *threads_.back();
}

void VirtioDisks::add_disk(const VirtioDiskSetup& setup, const DeviceConfig& device, unsigned anon_index) {
    const DriveConfig& drive = drive_named(setup.cfg, device.drive);
    Disk disk{&drive, &device};
    disk.backend = open_drive(drive);
    disk.qdev = device.id.empty() ? "/machine/peripheral-anon/device[" + std::to_string(anon_index) + "]"
                                  : "/machine/peripheral/" + device.id;
    disk.qdev += "/virtio-backend";
    unsigned n = unsigned(disks_.size());
    disk.node_name = "#block" + std::to_string(100 + 2 * n + 1);
    disk.file_node_name = "#block" + std::to_string(100 + 2 * n);

    VirtioBlkConfig blk;
    blk.backend = disk.backend;
    blk.loop = &thread_for(device, "blk-" + drive.id).loop();
    blk.serial = device.serial;
    blk.num_queues = queue_count(device, setup.cfg);
    blk.name = device.id.empty() ? drive.id : device.id;
    disk.blk = std::make_shared<VirtioBlk>(blk);

    VirtioPciOptions options;
    options.class_code = 0x010000;
    options.msix_vectors = blk.num_queues + 1u;
    options.config_size = disk.blk->config_size();
    auto plumbing = std::make_shared<VmPlumbing>(setup.vm);
    disk.pci = std::make_shared<VirtioPciDevice>(disk.blk, VirtioPciContext{setup.memory, plumbing}, options);
    unsigned slot = device.slot.value_or(0);
    if (!setup.pci.add_device(slot, device.function, disk.pci))
        throw std::runtime_error(device.location + ": PCI: slot " + std::to_string(slot) + " function " +
                                 std::to_string(device.function) + " not available for virtio-blk-pci");
    disks_.push_back(std::move(disk));
}

std::vector<BlockDeviceInfo> VirtioDisks::info() const {
    std::vector<BlockDeviceInfo> out;
    for (const Disk& d : disks_) {
        BlockDeviceInfo b;
        b.device = d.drive->id;
        b.qdev = d.qdev;
        b.node_name = d.node_name;
        b.file_node_name = d.file_node_name;
        b.file = d.drive->file;
        b.read_only = d.backend->read_only();
        b.writeback = d.drive->cache_writeback;
        b.direct = d.drive->cache_direct;
        b.no_flush = d.drive->cache_no_flush;
        b.discard = d.drive->discard;
        b.virtual_size = d.backend->size();
        struct stat st{};
        if (stat(d.drive->file.c_str(), &st) == 0) {
            b.actual_size = uint64_t(st.st_blocks) * 512;
            if (S_ISBLK(st.st_mode)) b.file_driver = "host_device";
        }
        BlockBackend::Stats s = d.backend->stats();
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
        out.push_back(std::move(b));
    }
    return out;
}

} // namespace kestrel
