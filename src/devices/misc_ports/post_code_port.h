#pragma once
// Port 0x80, the POST diagnostic port. Firmware and Linux (outb_p delays)
// write to it; writes are dropped and reads return all ones, as on a PC with
// no POST card.
#include "devices/bus_device.h"

#include <algorithm>

namespace kestrel {

class PostCodePort final : public BusDevice {
public:
    static constexpr uint16_t kPort = 0x80;
    static constexpr uint64_t kLength = 1;

    void read(uint64_t, std::span<uint8_t> data) override { std::fill(data.begin(), data.end(), 0xff); }
    void write(uint64_t, std::span<const uint8_t>) override {}
    void reset() {}
};

} // namespace kestrel
