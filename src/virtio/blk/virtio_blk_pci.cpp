// virtio-blk-pci: a virtio-blk disk on the virtio PCI transport. Its disk
// options belong to the virtio device below the proxy, as in QEMU
// ("virtio-blk-device": drive=, num-queues=, serial=).
#include "base/config_error.h"
#include "block/block_backend.h"
#include "block/drive_config.h"
#include "devices/device_context.h"
#include "virtio/blk/virtio_blk.h"
#include "virtio/pci/virtio_pci_device.h"
#include "virtio/pci/virtio_pci_function_device.h"
#include "virtio/pci/virtio_pci_unsupported.h"
#include "virtio/pci/virtio_pci_regs.h"

#include <algorithm>

namespace kestrel {
namespace {

constexpr int64_t kAutoQueues = 65535;  // QEMU's num-queues=auto: one per vCPU
constexpr auto kBackend = PropertySpec::Qtree::Backend;

constexpr PropertySpec kProperties[] = {
    in_qtree(prop_link(PropType::Drive, "drive", "Node name or ID of a block device to use as a backend"), kBackend),
    in_qtree(prop_uint(PropType::Uint16, "num-queues", kAutoQueues), kBackend),
    in_qtree(prop_str("serial"), kBackend),
    prop_link(PropType::Iothread, "iothread"),
    kBootIndexProperty,
};

// QEMU 7.2's other virtio-blk-pci properties (and the transport's, kVirtioPciUnsupported).
constexpr std::string_view kUnsupported[] = {
    "account-failed", "account-invalid", "backend_defaults", "class", "config-wce", "cyls", "discard",
    "discard_granularity", "heads", "ioeventfd", "lcyls", "lheads", "logical_block_size", "lsecs",
    "max-discard-sectors", "max-write-zeroes-sectors", "min_io_size", "opt_io_size", "physical_block_size",
    "queue-size", "report-discard-granularity", "request-merging", "rerror", "scsi", "secs", "seg-max-adjust",
    "share-rw", "vectors", "werror", "write-cache", "write-zeroes", "x-enable-wce-if-config-wce",
};

// What QEMU's virtio-blk realize checks; the drive's legacy serial= is the
// device's default serial.
void complete(DeviceConfig& device, const DeviceCheckContext& context) {
    PropertyValues& p = device.props;
    if (!p.has("drive")) throw ConfigError("drive property not set");
    const DriveConfig* drive = context.find_drive(p.str("drive"));
    if (!drive || drive->file.empty()) throw ConfigError("Device needs media, but drive is empty");
    uint64_t queues = p.uint("num-queues");
    if (queues == 0) throw ConfigError("num-queues property must be larger than 0");
    if (queues != uint64_t(kAutoQueues) && queues > virtio_pci::QUEUE_MAX)
        throw ConfigError("num-queues property must be at most " + std::to_string(virtio_pci::QUEUE_MAX));
    if (!p.has("serial") && !drive->serial.empty()) p.set_value("serial", drive->serial);
}

class VirtioBlkPci final : public VirtioPciFunctionDevice {
public:
    using VirtioPciFunctionDevice::VirtioPciFunctionDevice;

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        const PropertyValues& p = properties();
        const std::string& drive = p.str("drive");
        VirtioBlkConfig blk;
        blk.backend = context.drive(drive, qom_path() + "/virtio-backend");
        if (blk.backend) blk.geometry = guess_hd_geometry(*blk.backend);  // QEMU's, from the MBR or the size
        blk.loop = &context.io_loop(p.str("iothread"), "blk-" + drive);
        blk.serial = p.str("serial");
        uint64_t queues = p.uint("num-queues") == uint64_t(kAutoQueues) ? context.board().cpus : p.uint("num-queues");
        blk.num_queues = uint16_t(std::clamp<uint64_t>(queues, 1, 64));
        mutable_properties().set_value("num-queues", uint64_t(blk.num_queues));  // as QEMU resolves auto
        blk.name = id().empty() ? drive : id();
        blk_ = std::make_shared<VirtioBlk>(blk);

        VirtioPciOptions options;
        options.class_code = 0x010000;
        options.msix_vectors = blk.num_queues + 1u;
        options.config_size = blk_->config_size();
        options.name = std::string(type().name);
        return std::make_shared<VirtioPciDevice>(blk_, VirtioPciContext{context.memory(), context.plumbing()},
                                                 options);
    }

    std::shared_ptr<VirtioBlk> blk_;
};

} // namespace

extern const DeviceType kVirtioBlkPciType = {
    .name = "virtio-blk-pci",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Storage,
    .description = {},
    .properties = kProperties,
    .create = &create_device<VirtioBlkPci>,
    .qom_parent = "virtio-blk-pci-base",
    .alias = "virtio-blk",
    .backend = "virtio-blk-device",
    .unsupported_properties = kUnsupported,
    .transport_unsupported_properties = kVirtioPciUnsupported,
    .complete = &complete,
    .has_rom = true,
};

} // namespace kestrel
