#pragma once
// A device as QEMU's users know it: a type from the device table, an id, a
// QOM path and property values, and a life cycle the machine drives:
// realize once (map its regions, claim IRQs and vectors, start its threads),
// then reset / pause / resume any number of times, unrealize once before
// the machine goes (stop threads, unmap). describe() is what the monitors
// show of it beyond its properties.
#include "devices/device_config.h"

#include <memory>
#include <string>
#include <vector>

namespace kestrel {

class DeviceContext;
class PciDevice;

// One "dev:" entry of "info qtree", and the buses below it.
struct QtreeNode {
    struct Bus;
    std::string type;
    std::string id;
    std::vector<std::pair<std::string, std::string>> properties;  // name, value as printed
    std::vector<std::string> lines;                               // after the properties
    std::vector<Bus> buses;
};
struct QtreeNode::Bus {
    std::string name;  // "pci.0"
    std::string type;  // "PCI"
    std::vector<QtreeNode> devices;
};

class Device {
public:
    explicit Device(DeviceConfig config) : config_(std::move(config)) {}
    virtual ~Device() = default;
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    const DeviceType& type() const { return *config_.type; }
    const std::string& id() const { return config_.id; }
    const PropertyValues& properties() const { return config_.props; }
    const DeviceConfig& config() const { return config_; }
    // "/machine/peripheral/ID", "/machine/peripheral-anon/device[N]", or
    // "/machine/unattached/device[N]"; set by the machine when it adds it.
    const std::string& qom_path() const { return qom_path_; }
    void set_qom_path(std::string path) { qom_path_ = std::move(path); }

    virtual void realize(DeviceContext& context) = 0;
    virtual void reset() {}
    virtual void pause() {}
    virtual void resume() {}
    virtual void unrealize() {}

    // Fills the node's type, id and property lines; devices add their own.
    virtual void describe(QtreeNode& node) const;
    // The PCI function it is, if any (query-pci, info pci).
    virtual PciDevice* pci_function() const { return nullptr; }
    // Opaque identities of buses, for hot unplug: the bus this device
    // provides to others (a virtio-serial controller's, a USB host's) and
    // the one it sits on (a port's, a USB device's). A device whose
    // parent_bus() is another's child_bus() goes when that one goes, as
    // QEMU unrealizes a bus's devices with its owner. Null: none.
    virtual const void* child_bus() const { return nullptr; }
    virtual const void* parent_bus() const { return nullptr; }
    // The names of the buses it provides as the device settled them when
    // realized (an IDE controller's two, a USB host's one); empty: the
    // tree derives the one name from the id.
    virtual std::vector<std::string> child_bus_names() const { return {}; }

protected:
    // Realize may settle values QEMU derives (shown by info qtree).
    PropertyValues& mutable_properties() { return config_.props; }

private:
    DeviceConfig config_;
    std::string qom_path_;
};

} // namespace kestrel

namespace kestrel {

// The factory a DeviceType points at: `&create_device<IsaSerial>`.
template <typename D> std::unique_ptr<Device> create_device(DeviceConfig config) {
    return std::make_unique<D>(std::move(config));
}

} // namespace kestrel
