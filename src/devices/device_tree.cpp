#include "devices/device_tree.h"

#include <array>
#include <algorithm>
#include <stdexcept>
#include <string>

namespace kestrel {

std::string vcpu_qom_path(unsigned index) {
    return "/machine/unattached/device[" + std::to_string(index == 0 ? 0 : index + 1) + "]";
}


DeviceTree::~DeviceTree() { unrealize_all(); }

unsigned DeviceTree::next_anonymous() {
    auto reserved = [&](unsigned n) {
        return std::find(reserved_anonymous_.begin(), reserved_anonymous_.end(), n) != reserved_anonymous_.end();
    };
    while (reserved(anonymous_)) ++anonymous_;
    return anonymous_++;
}

Device& DeviceTree::add(std::unique_ptr<Device> device, bool board, std::string board_path) {
    std::string path = std::move(board_path);
    if (path.empty() && board)
        path = "/machine/unattached/device[" + std::to_string(unattached_++) + "]";
    else if (path.empty() && !device->id().empty())
        path = "/machine/peripheral/" + device->id();
    else if (path.empty())
        path = "/machine/peripheral-anon/device[" + std::to_string(next_anonymous()) + "]";
    device->set_qom_path(std::move(path));
    devices_.push_back(std::move(device));
    return *devices_.back();
}

// An error names the option that asked for the device, as QEMU's do.
void DeviceTree::realize_all(DeviceContext& context) {
    for (; realized_ < devices_.size(); ++realized_) {
        Device& device = *devices_[realized_];
        try {
            device.realize(context);
        } catch (const std::runtime_error& e) {
            const std::string& location = device.config().location;
            if (location.empty() || std::string_view(e.what()).starts_with(location)) throw;
            throw std::runtime_error(location + ": " + e.what());
        }
        if (on_realized_) on_realized_(device);
    }
}

Device& DeviceTree::add_realized(std::unique_ptr<Device> device, DeviceContext& context) {
    Device& added = add(std::move(device), false);
    if (realized_ + 1 != devices_.size()) throw std::logic_error("device tree: hot plug before start-up ended");
    try {
        added.realize(context);
    } catch (...) {
        devices_.pop_back();  // QEMU does not reuse the anonymous number either
        throw;
    }
    ++realized_;
    if (paused_) added.pause();  // as the others are now
    return added;
}

std::unique_ptr<Device> DeviceTree::remove(const Device& device) {
    for (auto it = devices_.begin(); it != devices_.end(); ++it) {
        if (it->get() != &device) continue;
        std::unique_ptr<Device> out = std::move(*it);
        if (size_t(it - devices_.begin()) < realized_) --realized_;
        devices_.erase(it);
        return out;
    }
    return nullptr;
}

void DeviceTree::reset_all() {
    for (size_t i = 0; i < realized_; ++i) devices_[i]->reset();
}

void DeviceTree::pause_all() {
    paused_ = true;
    for (size_t i = 0; i < realized_; ++i) devices_[i]->pause();
}

void DeviceTree::resume_all() {
    paused_ = false;
    for (size_t i = 0; i < realized_; ++i) devices_[i]->resume();
}

void DeviceTree::unrealize_all() {
    for (; realized_ > 0; --realized_) devices_[realized_ - 1]->unrealize();
}

const Device* DeviceTree::find_by_path(const std::string& path) const {
    for (const auto& d : devices_)
        if (d->qom_path() == path) return d.get();
    return nullptr;
}

const Device* DeviceTree::find_by_id(const std::string& id) const {
    for (const auto& d : devices_)
        if (!id.empty() && d->id() == id) return d.get();
    return nullptr;
}

namespace {

// Devices on the bus of kind `kind` below the node of the device that
// provides it, newest first; with an `owner` (a bus identity, see
// Device::child_bus), only the devices on that one.
void add_bus_devices(const std::vector<std::unique_ptr<Device>>& devices, BusKind kind, QtreeNode::Bus& bus,
                     const void* owner = nullptr);
// The IDE devices on the bus called `name`, newest first.
void add_devices_on(const std::vector<std::unique_ptr<Device>>& devices, const std::string& name,
                    QtreeNode::Bus& bus);

// Where QEMU shows a device's own bus: a virtio proxy's below its backend
// ("virtio-serial-device"), every other below the device itself.
std::vector<QtreeNode::Bus>& own_buses(QtreeNode& node, BusKind child) {
    bool virtio_backend = child == BusKind::VirtioSerial && !node.buses.empty() && !node.buses[0].devices.empty();
    return virtio_backend ? node.buses[0].devices[0].buses : node.buses;
}

QtreeNode node_for(const std::vector<std::unique_ptr<Device>>& devices, const Device& device) {
    QtreeNode node;
    device.describe(node);
    const BusKind child = device.type().child_bus;
    if (child == BusKind::None) return node;
    // A controller names its buses as its realize settled them ("ID.0",
    // "usb-bus.1", an IDE controller's "ide.0" and "ide.1").
    std::vector<std::string> names = device.child_bus_names();
    if (names.empty()) names.emplace_back(bus_instance_name(child));
    for (auto name = names.rbegin(); name != names.rend(); ++name) {  // the newer bus first, as QEMU lists them
        QtreeNode::Bus bus{*name, std::string(bus_type_name(child)), {}};
        if (child == BusKind::Ide)
            add_devices_on(devices, *name, bus);
        else
            add_bus_devices(devices, child, bus, device.child_bus());
        own_buses(node, child).push_back(std::move(bus));
    }
    return node;
}

void add_bus_devices(const std::vector<std::unique_ptr<Device>>& devices, BusKind kind, QtreeNode::Bus& bus,
                     const void* owner) {
    for (auto it = devices.rbegin(); it != devices.rend(); ++it)
        if ((*it)->type().bus == kind && (!owner || (*it)->parent_bus() == owner))
            bus.devices.push_back(node_for(devices, **it));
}

void add_devices_on(const std::vector<std::unique_ptr<Device>>& devices, const std::string& name,
                    QtreeNode::Bus& bus) {
    for (auto it = devices.rbegin(); it != devices.rend(); ++it)
        if ((*it)->type().bus == BusKind::Ide && (*it)->config().bus == name)
            bus.devices.push_back(node_for(devices, **it));
}

} // namespace

std::optional<DeviceTree::IdeBusPlace> DeviceTree::ide_bus_place(const std::string& bus) const {
    for (const auto& d : devices_) {
        if (d->type().child_bus != BusKind::Ide) continue;
        const std::vector<std::string> names = d->child_bus_names();
        for (unsigned i = 0; i < names.size(); ++i)
            if (names[i] == bus) return IdeBusPlace{d.get(), i};
    }
    return std::nullopt;
}

QtreeNode::Bus DeviceTree::qtree() const {
    QtreeNode::Bus root{"main-system-bus", "System", {}};
    add_bus_devices(devices_, BusKind::System, root);
    return root;
}

} // namespace kestrel
