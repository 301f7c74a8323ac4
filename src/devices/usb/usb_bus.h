#pragma once
// The USB buses devices plug into: each host controller registers its
// root ports, and a USB device (usb-tablet) takes a free one (or the one
// its port= names) when it is realized. Registered in the ServiceRegistry.
#include "devices/usb/usb_device.h"

#include <optional>
#include <string>
#include <utility>
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

// One attached device as `info usb` lists it.
struct UsbPortInfo {
    unsigned bus = 0;
    uint8_t address = 0;
    std::string port;  // "1", "2"
    unsigned speed_mbps = 12;
    std::string product;
    std::string id;  // the -device id, or empty
};

class UsbBuses {
public:
    // Each controller's bus gets the next number (info usb's "Device N.A"),
    // never reused after a removal, as QEMU's.
    void add(UsbController& controller) {
        controllers_.push_back(&controller);
        numbers_.push_back(next_number_++);
    }
    void remove(UsbController& controller);
    bool empty() const { return controllers_.empty(); }
    // Attaches to the first free port, or to port `port` ("1", "2": QEMU's
    // 1-based port paths). Throws std::runtime_error with QEMU's texts.
    std::string attach(UsbDevice& device, const std::string& port, const std::string& id = {});
    void detach(UsbDevice& device);
    // The controller `device` is attached to; null if none.
    const UsbController* controller_of(const UsbDevice& device) const;
    std::vector<UsbPortInfo> attached() const;

private:
    static std::string attach_to(UsbController& c, UsbDevice& device, const std::string& port);

    std::vector<UsbController*> controllers_;
    std::vector<unsigned> numbers_;  // each controller's bus number
    unsigned next_number_ = 0;
    std::vector<std::pair<const UsbDevice*, std::string>> ids_;
};

} // namespace kestrel
