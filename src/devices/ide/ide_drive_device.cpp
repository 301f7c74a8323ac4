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
#include "block/removable_medium.h"
#include "devices/ide/ide_buses.h"

#include <sys/epoll.h>
#include <vector>

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

// An ide-cd is also the removable-medium device of its drive: the
// monitors move its tray and change its medium through the channel.
class IdeDriveDevice final : public Device, public RemovableMediumDevice {
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
        loop_ = &context.main_loop();
        const std::string& drive_id = p.str("drive");
        // QEMU names the device a drive is attached to by its id, else its path.
        const std::string qdev = id().empty() ? qom_path() : id();
        if (!drive_id.empty()) drive.disk = context.drive(drive_id, qdev);
        if (drive.disk && !drive.cdrom) drive.geometry = guess_hd_geometry(*drive.disk);
        if (drive.disk) watch(drive.disk);
        MediumService* media = context.services().find<MediumService>();
        if (drive.cdrom && media) {
            drive.tray_moved = [this, media, loop = loop_](bool open) {
                loop->post([this, media, open] { media->guest_moved_tray(this, open); });
            };
            if (drive_id.empty())
                media->attach_anonymous(qdev, this);
            else
                media->attach_removable(drive_id, qdev, this);
        }
        unit_ = unsigned(p.uint("unit"));
        channel_ = &buses->channel(config().bus);
        channel_->attach(unit_, std::move(drive));
    }

    void unrealize() override {
        for (auto& medium : media_) loop_->remove_fd(medium->completion_fd());
        media_.clear();
        loop_ = nullptr;
    }

    bool tray_open() const override { return channel_->tray_open(unit_); }
    bool medium_locked() const override { return channel_->medium_locked(unit_); }
    void eject_request(bool force) override { channel_->eject_request(unit_, force); }
    void change_media(bool load) override { channel_->change_media(unit_, load); }
    // A removed medium stays watched while a request may still be on it;
    // the next change lets it go.
    void set_medium(std::shared_ptr<BlockBackend> medium) override {
        const bool idle = channel_->state().transfer != IdeChannelState::Transfer::Busy;
        if (idle) {
            for (auto& old : media_) loop_->remove_fd(old->completion_fd());
            media_.clear();
        }
        if (medium) watch(medium);
        channel_->set_medium(unit_, std::move(medium));
    }

private:
    void watch(const std::shared_ptr<BlockBackend>& medium) {
        BlockBackend* disk = medium.get();
        loop_->add_fd(disk->completion_fd(), EPOLLIN, [disk](uint32_t) { disk->process_completions(); });
        media_.push_back(medium);
    }

    EventLoop* loop_ = nullptr;
    IdeChannel* channel_ = nullptr;
    unsigned unit_ = 0;
    std::vector<std::shared_ptr<BlockBackend>> media_;  // watched: the medium, and removed ones
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
