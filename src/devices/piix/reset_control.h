#pragma once
// The PIIX3 Reset Control register at I/O port 0xCF9 (pc::RESET_CONTROL_PORT),
// the FADT's RESET_REG. Writing a value with RST_CPU (bit 2) set asks the
// machine for a reset; SYS_RST (bit 1) and FULL_RST (bit 3) are kept and
// read back. One byte wide; PciConfigIo forwards byte accesses at 0xCF9 here.
#include "devices/bus_device.h"
#include "base/machine_control.h"

#include <atomic>

namespace kestrel {

class ResetControl : public BusDevice {
public:
    static constexpr uint8_t SYS_RST = 1u << 1;
    static constexpr uint8_t RST_CPU = 1u << 2;
    static constexpr uint8_t FULL_RST = 1u << 3;

    explicit ResetControl(MachineControl& machine) : machine_(machine) {}

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    void reset() { value_ = 0; }

private:
    MachineControl& machine_;
    std::atomic<uint8_t> value_{0};
};

} // namespace kestrel
