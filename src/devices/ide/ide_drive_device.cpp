// ide-hd and ide-cd: a disk or a CD-ROM drive on one of the IDE
// controller's buses (ide.0, ide.1) at unit 0 (master) or 1 (slave). The
// option parser places them (config/ide_units) and makes them for -drive
// if=ide too, as QEMU's pc does; realize opens the drive and plugs it into
// the controller's channel.
#include "base/event_loop.h"
#include "base/service_registry.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "base/config_error.h"
#include "block/drive_config.h"
#include "devices/ide/ide_buses.h"

#include <sys/epoll.h>

namespace kestrel {
namespace {

constexpr std::string_view kDriveDescription = "Node name or ID of a block device to use as a backend";

// In QEMU's qtree order; "unit" is the bus's (DeviceType::all_properties).
constexpr PropertySpec kProperties[] = {
    prop_link(PropType::Drive, "drive", kDriveDescription),
    prop_str("ver"),
    prop_uint(PropType::Uint64, "wwn", 0),
    prop_str("serial"),
    prop_str("model"),
    kBootIndexProperty,
};

// QEMU's block and geometry properties kestrel does not take yet.
constexpr std::string_view kUnsupportedHd[] = {
    "backend_defaults", "logical_block_size", "physical_block_size", "min_io_size", "opt_io_size",
    "discard_granularity", "write-cache", "share-rw", "account-invalid", "account-failed", "rerror", "werror",
    "cyls", "heads", "secs", "lcyls", "lheads", "lsecs", "bios-chs-trans", "rotation_rate"};
constexpr std::string_view kUnsupportedCd[] = {
    "backend_defaults", "logical_block_size", "physical_block_size", "min_io_size", "opt_io_size",
    "discard_granularity", "write-cache", "share-rw", "account-invalid", "account-failed", "rerror", "werror"};

class IdeDriveDevice final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        const PropertyValues& p = properties();
        IdeBuses* buses = context.services().find<IdeBuses>();
        if (!buses) throw std::runtime_error("No 'IDE' bus found for device '" + std::string(type().name) + "'");
        IdeDrive drive;
        drive.cdrom = type().name == "ide-cd";
        drive.serial = p.str("serial");
        drive.model = p.str("model");
        drive.version = p.str("ver");
        drive.wwn = p.uint("wwn");
        if (!p.str("drive").empty()) drive.disk = context.drive(p.str("drive"), qom_path());
        if (drive.disk) {
            loop_ = &context.main_loop();
            BlockBackend* disk = drive.disk.get();
            completion_fd_ = disk->completion_fd();
            loop_->add_fd(completion_fd_, EPOLLIN, [disk](uint32_t) { disk->process_completions(); });
        }
        buses->channel(config().bus).attach(unsigned(p.uint("unit")), std::move(drive));
    }

    void unrealize() override {
        if (loop_) loop_->remove_fd(completion_fd_);
        loop_ = nullptr;
    }

private:
    EventLoop* loop_ = nullptr;
    int completion_fd_ = -1;
};

// What QEMU's realize checks that needs nothing opened.
void complete_hd(DeviceConfig& device, const DeviceCheckContext& context) {
    const std::string& id = device.props.str("drive");
    if (id.empty()) throw ConfigError("No drive specified");
    const DriveConfig* drive = context.find_drive(id);
    if (drive && drive->file.empty()) throw ConfigError("Device needs media, but drive is empty");
    if (drive && drive->read_only) throw ConfigError("Block node is read-only");
}

} // namespace

extern const DeviceType kIdeHdType = {
    .name = "ide-hd",
    .bus = BusKind::Ide,
    .category = DeviceCategory::Storage,
    .description = "virtual IDE disk",
    .properties = kProperties,
    .create = &create_device<IdeDriveDevice>,
    .qom_parent = "ide-device",
    .unsupported_properties = kUnsupportedHd,
    .complete = &complete_hd,
};

extern const DeviceType kIdeCdType = {
    .name = "ide-cd",
    .bus = BusKind::Ide,
    .category = DeviceCategory::Storage,
    .description = "virtual IDE CD-ROM",
    .properties = kProperties,
    .create = &create_device<IdeDriveDevice>,
    .qom_parent = "ide-device",
    .unsupported_properties = kUnsupportedCd,
};

} // namespace kestrel
