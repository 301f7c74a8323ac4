// The medium commands of the monitors on the machine's drives, as QEMU
// 7.2's block/qapi-sysemu.c behaves: a drive is named by its -drive id
// ("device") or by its device's id ("id"); a device with a tray opens it
// (or, when the guest locked it, asks the guest to) before its medium
// goes; a drive without a device takes and loses media freely.
#include "block/drive_set.h"

#include <algorithm>

namespace kestrel {

namespace {

// The id names the device the drive is attached to: `qdev` is that
// device's id ("cd0") or QOM path, and QEMU takes either. A drive inside
// a device (virtio-blk's ".../virtio-backend") is named by that path only.
bool names_device(const std::string& qdev, const std::string& id) {
    if (qdev.empty() || id.empty()) return false;
    const std::string peripheral = "/machine/peripheral/";
    return id == qdev || (!qdev.starts_with("/") && id == peripheral + qdev) || qdev == peripheral + id;
}

} // namespace

void DriveSet::attach_removable(const std::string& id, const std::string& qdev, RemovableMediumDevice* device) {
    for (Open& o : open_) {
        if (o.drive->id != id || o.qdev != qdev) continue;
        o.removable = device;
        return;
    }
    throw std::logic_error("drive '" + id + "' was not opened for " + qdev);
}

DriveSet::Open& DriveSet::find(const MediumTarget& target) {
    if (target.device.has_value() == target.id.has_value()) throw MediumError("Need exactly one of 'device' and 'id'");
    if (target.id) {
        // A device without a drive is not found here; QEMU would say "Device
        // does not have a block device backend".
        for (Open& o : open_)
            if (names_device(o.qdev, *target.id)) return o;
        throw MediumError("Device '" + *target.id + "' not found", true);
    }
    for (Open& o : open_)  // a -blockdev node has no name as a drive
        if (!o.drive->blockdev && o.drive->id == *target.device) return o;
    throw MediumError("Device '" + *target.device + "' not found", true);
}

void DriveSet::emit_tray_moved(const Open& o, bool open) {
    if (!tray_moved_) return;
    tray_moved_(o.drive->blockdev ? "" : o.drive->id, o.qdev, open);
}

void DriveSet::guest_moved_tray(const RemovableMediumDevice* device, bool open) {
    for (const Open& o : open_)
        if (o.removable == device) return emit_tray_moved(o, open);
}

// QEMU's blk_dev_change_media_cb: the event only when the tray moved.
void DriveSet::move_tray(Open& o, bool load) {
    const bool was_open = o.removable->tray_open();
    o.removable->change_media(load);
    const bool is_open = o.removable->tray_open();
    if (was_open != is_open) emit_tray_moved(o, is_open);
}

// A drive without a device is removable and has no tray, as in QEMU.
DriveSet::TrayResult DriveSet::do_open_tray(Open& o, const std::string& name, bool force, std::string& error) {
    const bool attached = !o.qdev.empty();
    if (attached && !o.removable) {
        error = "Device '" + name + "' is not removable";
        return TrayResult::NotRemovable;
    }
    if (!o.removable) {
        error = "Device '" + name + "' does not have a tray";
        return TrayResult::NoTray;
    }
    if (o.removable->tray_open()) return TrayResult::Done;
    const bool locked = o.removable->medium_locked();
    if (locked) o.removable->eject_request(force);
    if (!locked || force) move_tray(o, false);
    if (locked && !force) {
        error = "Device '" + name + "' is locked and force was not specified, wait for tray to open and try again";
        return TrayResult::EjectRequested;
    }
    return TrayResult::Done;
}

void DriveSet::remove_medium(Open& o, const std::string& name) {
    const bool attached = !o.qdev.empty();
    if (attached && !o.removable) throw MediumError("Device '" + name + "' is not removable");
    if (attached && !o.removable->tray_open()) throw MediumError("Tray of device '" + name + "' is not open");
    if (!o.backend) return;
    if (o.node_source >= 0) open_[size_t(o.node_source)].lent = false;  // the node is free again
    o.node_source = -1;
    o.backend.reset();
    o.file.clear();
    o.node_name.clear();
    o.file_node_name.clear();
    if (o.removable) o.removable->set_medium(nullptr);
}

void DriveSet::check_insertable(const Open& o) const {
    const bool attached = !o.qdev.empty();
    if (attached && !o.removable) throw MediumError("Device is not removable");
    if (attached && !o.removable->tray_open()) throw MediumError("Tray of the device is not open");
    if (o.backend) throw MediumError("There already is a medium in the device");
}

void DriveSet::insert_medium(Open& o, std::shared_ptr<BlockBackend> medium, std::string file, bool read_only) {
    check_insertable(o);
    std::tie(o.node_name, o.file_node_name) = next_node_names();
    o.backend = std::move(medium);
    o.file = std::move(file);
    o.read_only = read_only;
    o.protocol_only = false;
    if (o.removable) o.removable->set_medium(o.backend);
}

void DriveSet::open_tray(const MediumTarget& target, bool force) {
    Open& o = find(target);
    std::string error;
    TrayResult r = do_open_tray(o, target.id.value_or(target.device.value_or("")), force, error);
    if (r == TrayResult::NotRemovable) throw MediumError(error);
}

void DriveSet::close_tray(const MediumTarget& target) {
    Open& o = find(target);
    const std::string name = target.device ? *target.device : *target.id;
    if (!o.qdev.empty() && !o.removable) throw MediumError("Device '" + name + "' is not removable");
    if (!o.removable || !o.removable->tray_open()) return;
    move_tray(o, true);
}

void DriveSet::eject(const MediumTarget& target, bool force) {
    Open& o = find(target);
    std::string error;
    TrayResult r = do_open_tray(o, target.id.value_or(target.device.value_or("")), force, error);
    if (r != TrayResult::Done && r != TrayResult::NoTray) throw MediumError(error);
    remove_medium(o, target.device ? *target.device : *target.id);
}

void DriveSet::remove_medium(const std::string& id) {
    MediumTarget target;
    target.id = id;
    remove_medium(find(target), id);
}

void DriveSet::insert_medium(const std::string& id, const std::string& node_name) {
    MediumTarget target;
    target.id = id;
    Open& o = find(target);
    auto node = std::find_if(open_.begin(), open_.end(), [&](const Open& n) {
        return n.drive->blockdev && !n.anonymous && n.backend && n.node_name == node_name;
    });
    if (node == open_.end()) throw MediumError("Node '" + node_name + "' not found");
    if (!node->qdev.empty() || node->lent || &*node == &o) throw MediumError("Node '" + node_name + "' is already in use");
    check_insertable(o);
    o.backend = node->backend;
    o.node_name = node->node_name;
    o.file_node_name = node->file_node_name;
    o.file = node->file;
    o.read_only = node->read_only;
    o.protocol_only = node->protocol_only;
    o.node_source = int(node - open_.begin());
    node->lent = true;
    if (o.removable) o.removable->set_medium(o.backend);
}

void DriveSet::change_medium(const MediumTarget& target, const std::string& filename, const std::string& format,
                             bool force, const std::string& read_only_mode) {
    Open& o = find(target);
    DriveConfig medium = *o.drive;
    medium.location.clear();
    medium.file = filename;
    medium.format = format;
    medium.snapshot = false;
    medium.protocol_only = false;
    medium.open_backing = true;
    medium.expected_backing_file.clear();
    medium.expected_backing_format.clear();
    medium.read_only = read_only_mode == "read-only" ? true : read_only_mode == "read-write" ? false : o.read_only;
    if (filename.empty()) throw MediumError("The 'file' block driver requires a file name");
    if (!format.empty() && format != "raw" && format != "qcow2") throw MediumError("Unknown driver '" + format + "'");
    std::shared_ptr<BlockBackend> backend;
    try {
        backend = open_drive(medium);
    } catch (const std::runtime_error& e) {
        throw MediumError(e.what());
    }
    std::string error;
    TrayResult r = do_open_tray(o, target.id.value_or(target.device.value_or("")), force, error);
    if (r != TrayResult::Done && r != TrayResult::NoTray) throw MediumError(error);
    const std::string name = target.device ? *target.device : *target.id;
    remove_medium(o, name);
    insert_medium(o, std::move(backend), filename, medium.read_only);
    close_tray(target);
}

} // namespace kestrel
