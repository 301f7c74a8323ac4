#pragma once
// A USB host controller with two root ports and nothing else, for tests
// of the buses' bookkeeping and of info usb.
#include "devices/usb/usb_bus.h"

#include <array>

namespace kestrel::test {

class FakeUsbController final : public UsbController {
public:
    std::array<UsbDevice*, 2> ports{};
    unsigned port_count() const override { return 2; }
    UsbDevice* device_at(unsigned port) const override { return ports.at(port); }
    void attach(unsigned port, UsbDevice& device) override { ports.at(port) = &device; }
    void detach(unsigned port) override { ports.at(port) = nullptr; }
};

} // namespace kestrel::test
