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
    // Registers the bus of a controller with qdev id `id` and returns its
    // name ("ID.0", "usb-bus.N"). Each bus also gets the next number (info
    // usb's "Device N.A"); neither is reused after a removal, as in QEMU.
    std::string add(UsbController& controller, const std::string& id = {});
    void remove(UsbController& controller);
    bool empty() const { return buses_.empty(); }
    // Attaches to the bus called `bus` (the newest one for "", as QEMU's
    // search of a bus's children newest first finds it), at its first free
    // port or at port `port` ("1", "2": QEMU's 1-based port paths). Throws
    // std::runtime_error with QEMU's texts.
    std::string attach(UsbDevice& device, const std::string& bus, const std::string& port,
                       const std::string& id = {});
    void detach(UsbDevice& device);
    // The controller `device` is attached to; null if none.
    const UsbController* controller_of(const UsbDevice& device) const;
    // The number of the bus `device` is attached to (0 if none).
    unsigned bus_number_of(const UsbDevice& device) const;
    // Bus by bus, each one's devices in the order they were attached, as
    // QEMU's info usb lists them.
    std::vector<UsbPortInfo> attached() const;

private:
    struct Bus {
        UsbController* controller;
        std::string name;
        unsigned number;
    };
    static std::string attach_to(const Bus& bus, UsbDevice& device, const std::string& port);
    const Bus* find(const std::string& name) const;
    const Bus* bus_of(const UsbDevice& device) const;  // null if not attached

    std::vector<Bus> buses_;
    unsigned next_number_ = 0;
    unsigned unnamed_made_ = 0;
    std::vector<std::pair<const UsbDevice*, std::string>> ids_;
};

} // namespace kestrel
