#pragma once
// Port 0x92, PS/2 System Control Port A ("fast A20 and reset"): bit 0 going
// from 0 to 1 resets the machine, bit 1 is the A20 gate. Under KVM A20 is
// never masked; the bit is kept so the guest reads back what it wrote.
#include "devices/bus_device.h"
#include "base/machine_control.h"

#include <mutex>

namespace kestrel {

class SystemControlPortA final : public BusDevice {
public:
    static constexpr uint16_t kPort = 0x92;
    static constexpr uint64_t kLength = 1;
    static constexpr uint8_t kFastReset = 0x01;
    static constexpr uint8_t kA20 = 0x02;

    explicit SystemControlPortA(MachineControl& control) : control_(control) {}

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    void reset();

    bool a20_enabled() const;

private:
    MachineControl& control_;
    mutable std::mutex lock_;
    uint8_t value_ = kA20;  // A20 on: that is how KVM runs the guest
};

} // namespace kestrel
