#pragma once
// The ACPI fixed hardware registers of the PIIX4 power management function:
// the PM1 event and control registers and the PM timer (the 64-byte block
// at PMBA, pc::PM_BLOCK_LEN) and the GPE0 block (pc::GPE0_BASE). The SCI
// (pc::ACPI_SCI_IRQ, level) is high while an enabled PM1 event (timer
// carry, power button) or an enabled GPE has its status bit set.
//
// The timer's carry (TMR_STS, bit 23 toggling) is noticed when the guest
// touches these registers; there is no asynchronous timer interrupt (Linux
// never enables TMR_EN; it polls the timer as a clocksource).
#include "devices/bus_device.h"
#include "base/irq_line.h"
#include "base/machine_control.h"
#include "base/monotonic_clock.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

namespace kestrel {

// Nanoseconds of a monotonic clock. Injected so tests need not sleep.
using NanoClock = std::function<uint64_t()>;

class AcpiPmRegs {
public:
    static constexpr uint64_t TIMER_HZ = 3579545;
    static constexpr uint32_t TIMER_MASK = 0xffffff;  // 24-bit counter (FADT TMR_VAL_EXT = 0)
    static constexpr uint16_t PM1_STS_WAK = 1u << 15;
    static constexpr uint16_t PM1_EN_TMR = 1u << 0;
    static constexpr uint16_t PM1_EN_PWRBTN = 1u << 8;

    AcpiPmRegs(MachineControl& machine, std::shared_ptr<IrqLine> sci, NanoClock clock = monotonic_ns);

    // The PM block, offsets from PMBA.
    void read_pm(uint64_t offset, std::span<uint8_t> data);
    void write_pm(uint64_t offset, std::span<const uint8_t> data);
    // The GPE0 block: 2 bytes status (write 1 to clear), 2 bytes enable.
    void read_gpe(uint64_t offset, std::span<uint8_t> data);
    void write_gpe(uint64_t offset, std::span<const uint8_t> data);

    // The power button was pressed (system_powerdown).
    void press_power_button();
    // A general-purpose event (hotplug) occurred.
    void raise_gpe(unsigned bit);

    uint32_t timer() const;
    bool sci_level() const;
    // PM1/GPE registers to their reset values, SCI low. The timer runs on.
    void reset();

private:
    uint64_t ticks() const;
    uint8_t pm_byte_locked(uint64_t offset, uint64_t ticks);
    void write_pm_byte_locked(uint64_t offset, uint8_t value);
    void sleep_locked(unsigned slp_typ);
    void note_timer_carry_locked(uint64_t ticks);
    void update_sci_locked();

    MachineControl& machine_;
    std::shared_ptr<IrqLine> sci_;
    NanoClock clock_;

    mutable std::mutex lock_;
    uint16_t pm1_sts_ = 0;
    uint16_t pm1_en_ = 0;
    uint16_t pm1_cnt_ = 0;
    uint16_t gpe_sts_ = 0;
    uint16_t gpe_en_ = 0;
    uint64_t timer_carries_ = 0;  // ticks >> 23 when last looked at
    bool sci_driven_ = false;
    bool logged_sleep_ = false;
};

// Bus adapters for the two blocks (the PM block is mapped by Piix4Pm at
// PMBA; the GPE0 block by the board at pc::GPE0_BASE).
class AcpiPmBlock : public BusDevice {
public:
    explicit AcpiPmBlock(std::shared_ptr<AcpiPmRegs> regs) : regs_(std::move(regs)) {}
    void read(uint64_t offset, std::span<uint8_t> data) override { regs_->read_pm(offset, data); }
    void write(uint64_t offset, std::span<const uint8_t> data) override { regs_->write_pm(offset, data); }

private:
    std::shared_ptr<AcpiPmRegs> regs_;
};

class AcpiGpe0Block : public BusDevice {
public:
    explicit AcpiGpe0Block(std::shared_ptr<AcpiPmRegs> regs) : regs_(std::move(regs)) {}
    void read(uint64_t offset, std::span<uint8_t> data) override { regs_->read_gpe(offset, data); }
    void write(uint64_t offset, std::span<const uint8_t> data) override { regs_->write_gpe(offset, data); }

private:
    std::shared_ptr<AcpiPmRegs> regs_;
};

} // namespace kestrel
