#include "devices/usb/usb_bus.h"

#include <stdexcept>

namespace kestrel {

std::string UsbBuses::attach(UsbDevice& device, const std::string& port, const std::string& id) {
    if (controllers_.empty()) throw std::runtime_error("No 'usb-bus' bus found");
    UsbController& c = *controllers_.front();
    std::string path = attach_to(c, device, port);
    ids_.emplace_back(&device, id);
    return path;
}

std::string UsbBuses::attach_to(UsbController& c, UsbDevice& device, const std::string& port) {
    if (!port.empty()) {
        unsigned n = 0;
        try {
            n = unsigned(std::stoul(port));
        } catch (const std::exception&) {
            n = 0;
        }
        if (n == 0 || n > c.port_count() || c.device_at(n - 1))
            throw std::runtime_error("Error: usb port " + port + " (bus usb-bus.0) not found (in use?)");
        c.attach(n - 1, device);
        return port;
    }
    for (unsigned i = 0; i < c.port_count(); ++i) {
        if (c.device_at(i)) continue;
        c.attach(i, device);
        return std::to_string(i + 1);
    }
    throw std::runtime_error("Error: tried to attach usb device " + device.product() + " to a bus with no free ports");
}

void UsbBuses::detach(UsbDevice& device) {
    for (UsbController* c : controllers_)
        for (unsigned i = 0; i < c->port_count(); ++i)
            if (c->device_at(i) == &device) c->detach(i);
    std::erase_if(ids_, [&](const auto& entry) { return entry.first == &device; });
}

void UsbBuses::remove(UsbController& controller) {
    for (size_t i = 0; i < controllers_.size(); ++i) {
        if (controllers_[i] != &controller) continue;
        controllers_.erase(controllers_.begin() + long(i));
        numbers_.erase(numbers_.begin() + long(i));
        return;
    }
}

const UsbController* UsbBuses::controller_of(const UsbDevice& device) const {
    for (const UsbController* c : controllers_)
        for (unsigned i = 0; i < c->port_count(); ++i)
            if (c->device_at(i) == &device) return c;
    return nullptr;
}

// In the order the devices were attached, as QEMU lists them.
std::vector<UsbPortInfo> UsbBuses::attached() const {
    std::vector<UsbPortInfo> out;
    for (const auto& [device, id] : ids_)
        for (unsigned bus = 0; bus < controllers_.size(); ++bus)
            for (unsigned i = 0; i < controllers_[bus]->port_count(); ++i)
                if (controllers_[bus]->device_at(i) == device)
                    out.push_back({numbers_[bus], device->address(), std::to_string(i + 1), device->speed_mbps(),
                                   device->product(), id});
    return out;
}

} // namespace kestrel
