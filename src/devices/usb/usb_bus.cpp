#include "devices/usb/usb_bus.h"

#include "devices/device_type.h"

#include <stdexcept>

namespace kestrel {

std::string UsbBuses::add(UsbController& controller, const std::string& id) {
    std::string name = controller_bus_name(BusKind::Usb, id, id.empty() ? unnamed_made_++ : 0);
    buses_.push_back({&controller, name, next_number_++});
    return name;
}

void UsbBuses::remove(UsbController& controller) {
    std::erase_if(buses_, [&](const Bus& b) { return b.controller == &controller; });
}

const UsbBuses::Bus* UsbBuses::find(const std::string& name) const {
    if (name.empty()) return buses_.empty() ? nullptr : &buses_.back();
    for (const Bus& b : buses_)
        if (b.name == name) return &b;
    return nullptr;
}

std::string UsbBuses::attach(UsbDevice& device, const std::string& bus, const std::string& port,
                             const std::string& id) {
    if (buses_.empty()) throw std::runtime_error("No 'usb-bus' bus found");
    const Bus* b = find(bus);
    if (!b) throw std::runtime_error("Bus '" + bus + "' not found");
    std::string path = attach_to(*b, device, port);
    ids_.emplace_back(&device, id);
    return path;
}

std::string UsbBuses::attach_to(const Bus& bus, UsbDevice& device, const std::string& port) {
    UsbController& c = *bus.controller;
    if (!port.empty()) {
        unsigned n = 0;
        try {
            n = unsigned(std::stoul(port));
        } catch (const std::exception&) {
            n = 0;
        }
        if (n == 0 || n > c.port_count() || c.device_at(n - 1))
            throw std::runtime_error("usb port " + port + " (bus " + bus.name + ") not found (in use?)");
        c.attach(n - 1, device);
        return port;
    }
    for (unsigned i = 0; i < c.port_count(); ++i) {
        if (c.device_at(i)) continue;
        c.attach(i, device);
        return std::to_string(i + 1);
    }
    throw std::runtime_error("tried to attach usb device " + device.product() + " to a bus with no free ports");
}

void UsbBuses::detach(UsbDevice& device) {
    for (const Bus& b : buses_)
        for (unsigned i = 0; i < b.controller->port_count(); ++i)
            if (b.controller->device_at(i) == &device) b.controller->detach(i);
    std::erase_if(ids_, [&](const auto& entry) { return entry.first == &device; });
}

const UsbBuses::Bus* UsbBuses::bus_of(const UsbDevice& device) const {
    for (const Bus& b : buses_)
        for (unsigned i = 0; i < b.controller->port_count(); ++i)
            if (b.controller->device_at(i) == &device) return &b;
    return nullptr;
}

const UsbController* UsbBuses::controller_of(const UsbDevice& device) const {
    const Bus* b = bus_of(device);
    return b ? b->controller : nullptr;
}

unsigned UsbBuses::bus_number_of(const UsbDevice& device) const {
    const Bus* b = bus_of(device);
    return b ? b->number : 0;
}

std::vector<UsbPortInfo> UsbBuses::attached() const {
    std::vector<UsbPortInfo> out;
    for (const Bus& b : buses_)
        for (const auto& [device, id] : ids_)
            for (unsigned i = 0; i < b.controller->port_count(); ++i)
                if (b.controller->device_at(i) == device)
                    out.push_back({b.number, device->address(), std::to_string(i + 1), device->speed_mbps(),
                                   device->product(), id});
    return out;
}

} // namespace kestrel
