#include "devices/usb/usb_bus.h"

#include <stdexcept>

namespace kestrel {

std::string UsbBuses::attach(UsbDevice& device, const std::string& port) {
    if (controllers_.empty()) throw std::runtime_error("No 'usb-bus' bus found");
    UsbController& c = *controllers_.front();
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
}

} // namespace kestrel
