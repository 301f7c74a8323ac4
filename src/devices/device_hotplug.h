#pragma once
// device_add and device_del on the running machine, as the monitors ask
// for them (the machine offers it as a service). PCI devices come and go
// through the chipset's ACPI hotplug: device_add plugs the device and tells
// the guest; device_del asks the guest to eject, and the device goes (with
// DEVICE_DELETED) once it has.
#include "base/qemu_opts.h"

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kestrel {

// No device by that id or QOM path (QMP's DeviceNotFound class).
struct HotplugDeviceNotFound : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class DeviceHotplug {
public:
    virtual ~DeviceHotplug() = default;
    // The options as -device takes them (driver= first). Throws
    // std::runtime_error with QEMU's text.
    virtual void add_device(const std::vector<qopts::OptPair>& options) = 0;
    // `name`: an id or a QOM path. Throws HotplugDeviceNotFound or
    // std::runtime_error with QEMU's text.
    virtual void delete_device(const std::string& name) = 0;
    // DEVICE_DELETED: the id ("" for none) and QOM path of each object
    // that went (a virtio device's backend first, then the device).
    virtual void on_device_deleted(std::function<void(const std::string& id, const std::string& path)> handler) = 0;
};

// device_add and device_del of a vCPU (TYPE-x86_64-cpu): the machine
// creates its KVM vCPU in the topology slot the options name and tells the
// guest through the chipset's ACPI CPU hotplug registers.
class VcpuHotplug {
public:
    virtual ~VcpuHotplug() = default;
    // The options as -device takes them (driver= first). Throws
    // std::runtime_error with QEMU's text.
    virtual void add_vcpu(const std::vector<qopts::OptPair>& options) = 0;
    // vCPU `index` (a present one): asks the guest to eject it; it goes,
    // with DEVICE_DELETED, once the guest has. Throws std::runtime_error
    // with QEMU's text.
    virtual void delete_vcpu(unsigned index) = 0;
};

// blockdev-add and blockdev-del: block nodes a device_add may then name
// (drive=), or blockdev-insert-medium put in a CD-ROM drive.
class BlockNodeHotplug {
public:
    virtual ~BlockNodeHotplug() = default;
    // One node as a JSON object, as -blockdev's JSON syntax. Throws
    // std::runtime_error with QEMU's text.
    virtual void add_block_node(const std::string& json_object) = 0;
    virtual void delete_block_node(const std::string& node_name) = 0;
};

} // namespace kestrel
