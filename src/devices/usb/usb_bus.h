#pragma once
// The USB buses devices plug into: each host controller registers its
// root ports, and a USB device (usb-tablet) takes a free one (or the one
// its port= names) when it is realized. Registered in the ServiceRegistry.
#include "devices/usb/usb_device.h"

#include <optional>
#include <string>
#include <vector>

namespace kestrel {

class UsbController {
public:
    virtual ~UsbController() = default;
    virtual unsigned port_count() const = 0;
    virtual UsbDevice* device_at(unsigned port) const = 0;
    // Attaches to root port `port` (0-based): the guest sees a connect.
    virtual void attach(unsigned port, UsbDevice& device) = 0;
    virtual void detach(unsigned port) = 0;
};

class UsbBuses {
public:
    void add(UsbController& controller) { controllers_.push_back(&controller); }
    void remove(UsbController& controller) { std::erase(controllers_, &controller); }
    bool empty() const { return controllers_.empty(); }
    // Attaches to the first free port, or to port `port` ("1", "2": QEMU's
    // 1-based port paths). Throws std::runtime_error with QEMU's texts.
    std::string attach(UsbDevice& device, const std::string& port);
    void detach(UsbDevice& device);

private:
    std::vector<UsbController*> controllers_;
};

} // namespace kestrel
