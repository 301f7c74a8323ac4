#pragma once
// Removable media: what the block layer asks of a drive whose medium may
// change while the guest runs (an IDE CD-ROM and its tray, as QEMU's
// BlockDevOps), and the monitors' medium commands (eject, change,
// blockdev-open-tray ...), answered by the machine's drives with QEMU
// 7.2's semantics and error texts. Main loop thread only.
#include "block/block_backend.h"

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace kestrel {

class RemovableMediumDevice {
public:
    virtual ~RemovableMediumDevice() = default;
    virtual bool tray_open() const = 0;
    virtual bool medium_locked() const = 0;
    // The host asks the guest to open its tray (a media event); `force`
    // unlocks the tray first.
    virtual void eject_request(bool force) = 0;
    // The tray moves: `load` closes it, else it opens. The guest learns
    // that the medium may have changed.
    virtual void change_media(bool load) = 0;
    // The medium in the drive from now on (null: none).
    virtual void set_medium(std::shared_ptr<BlockBackend> medium) = 0;
};

// A failed medium command: QEMU's text, and whether its QMP class is
// DeviceNotFound (else GenericError).
struct MediumError : std::runtime_error {
    MediumError(const std::string& text, bool not_found = false) : std::runtime_error(text), device_not_found(not_found) {}
    bool device_not_found;
};

// The drive a command names: QEMU's "device" (the -drive id) or "id" (the
// device's qdev id); exactly one must be given.
struct MediumTarget {
    std::optional<std::string> device, id;
};

// DEVICE_TRAY_MOVED's members: the -drive id ("" for -blockdev), the
// device's id or QOM path, and where the tray is now.
using TrayMovedHandler = std::function<void(const std::string& device, const std::string& id, bool tray_open)>;

class MediumService {
public:
    virtual ~MediumService() = default;
    // The device that opened drive `drive_id` as `qdev` (its id, or its
    // QOM path without one) has a tray.
    virtual void attach_removable(const std::string& drive_id, const std::string& qdev,
                                  RemovableMediumDevice* device) = 0;
    // A device with a tray and no drive: QEMU gives it an empty anonymous one.
    virtual void attach_anonymous(const std::string& qdev, RemovableMediumDevice* device) = 0;
    virtual void on_tray_moved(TrayMovedHandler handler) = 0;
    // The guest moved the tray itself (START STOP UNIT): DEVICE_TRAY_MOVED.
    virtual void guest_moved_tray(const RemovableMediumDevice* device, bool open) = 0;
    virtual void eject(const MediumTarget& target, bool force) = 0;
    virtual void open_tray(const MediumTarget& target, bool force) = 0;
    virtual void close_tray(const MediumTarget& target) = 0;
    virtual void remove_medium(const std::string& id) = 0;
    // A -blockdev root node no device uses goes into the drive of device `id`.
    virtual void insert_medium(const std::string& id, const std::string& node_name) = 0;
    // read_only_mode: "retain", "read-only" or "read-write"; format: "" probes.
    virtual void change_medium(const MediumTarget& target, const std::string& filename, const std::string& format,
                               bool force, const std::string& read_only_mode) = 0;
};

} // namespace kestrel
