#include "devices/piix/acpi_pm_regs.h"

#include "devices/pc_layout.h"

#include <spdlog/spdlog.h>
#include <time.h>

namespace kestrel {

namespace {
constexpr unsigned TIMER_CARRY_SHIFT = 23;  // TMR_STS is set when bit 23 toggles
constexpr uint16_t PM1_SCI_EVENTS = pc::PM1_STS_TMR | pc::PM1_STS_PWRBTN;
constexpr uint16_t PM1_CNT_SLP_TYP_MASK = 0x7u << pc::PM1_CNT_SLP_TYP_SHIFT;
constexpr uint64_t PM1_STS = pc::PM1_EVT_OFFSET, PM1_EN = pc::PM1_EVT_OFFSET + 2;

uint8_t byte_of(uint64_t value, uint64_t index) { return uint8_t(value >> (8 * index)); }
} // namespace

AcpiPmRegs::AcpiPmRegs(MachineControl& machine, std::shared_ptr<IrqLine> sci, NanoClock clock)
    : machine_(machine), sci_(std::move(sci)), clock_(clock ? std::move(clock) : NanoClock(monotonic_ns)) {
    timer_carries_ = ticks() >> TIMER_CARRY_SHIFT;
}

uint64_t AcpiPmRegs::ticks() const {
    // Split into seconds first: ns * 3.58 MHz would overflow 64 bits after
    // about 85 minutes.
    uint64_t ns = clock_();
    return ns / 1000000000u * TIMER_HZ + ns % 1000000000u * TIMER_HZ / 1000000000u;
}

uint32_t AcpiPmRegs::timer() const { return uint32_t(ticks() & TIMER_MASK); }

void AcpiPmRegs::read_pm(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(lock_);
    uint64_t now = ticks();
    note_timer_carry_locked(now);
    for (size_t i = 0; i < data.size(); ++i) data[i] = pm_byte_locked(offset + i, now);
    update_sci_locked();
}

uint8_t AcpiPmRegs::pm_byte_locked(uint64_t offset, uint64_t now) {
    switch (offset) {
    case PM1_STS: case PM1_STS + 1: return byte_of(pm1_sts_, offset - PM1_STS);
    case PM1_EN: case PM1_EN + 1: return byte_of(pm1_en_, offset - PM1_EN);
    case pc::PM1_CNT_OFFSET:
    case pc::PM1_CNT_OFFSET + 1:
        // No SMI_CMD: the machine is always in ACPI mode.
        return byte_of(pm1_cnt_ | pc::PM1_CNT_SCI_EN, offset - pc::PM1_CNT_OFFSET);
    case pc::PM_TMR_OFFSET:
    case pc::PM_TMR_OFFSET + 1:
    case pc::PM_TMR_OFFSET + 2:
    case pc::PM_TMR_OFFSET + 3: return byte_of(now & TIMER_MASK, offset - pc::PM_TMR_OFFSET);
    default: return 0;  // PIIX4 processor/device control registers: not modelled
    }
}

void AcpiPmRegs::write_pm(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard guard(lock_);
    note_timer_carry_locked(ticks());
    for (size_t i = 0; i < data.size(); ++i) write_pm_byte_locked(offset + i, data[i]);
    update_sci_locked();
}

// Every PM1 field lies within one byte, so byte-wise handling is exact for
// any access width.
void AcpiPmRegs::write_pm_byte_locked(uint64_t offset, uint8_t value) {
    switch (offset) {
    case PM1_STS: case PM1_STS + 1: pm1_sts_ &= uint16_t(~(value << (8 * (offset - PM1_STS)))); break;
    case PM1_EN: pm1_en_ = uint16_t((pm1_en_ & 0xff00) | value); break;
    case PM1_EN + 1: pm1_en_ = uint16_t((pm1_en_ & 0x00ff) | value << 8); break;
    case pc::PM1_CNT_OFFSET: pm1_cnt_ = uint16_t((pm1_cnt_ & 0xff00) | value); break;
    case pc::PM1_CNT_OFFSET + 1: {
        uint16_t cnt = uint16_t((pm1_cnt_ & 0x00ff) | value << 8);
        pm1_cnt_ = cnt & uint16_t(~pc::PM1_CNT_SLP_EN);  // SLP_EN is write-only
        if (cnt & pc::PM1_CNT_SLP_EN) sleep_locked((cnt & PM1_CNT_SLP_TYP_MASK) >> pc::PM1_CNT_SLP_TYP_SHIFT);
        break;
    }
    default: break;  // timer and unmodelled registers are read-only here
    }
}

void AcpiPmRegs::sleep_locked(unsigned slp_typ) {
    if (slp_typ == pc::SLP_TYP_S5) {
        machine_.request_shutdown(ShutdownCause::GuestPoweroff);
        return;
    }
    if (!logged_sleep_) {
        logged_sleep_ = true;
        spdlog::warn("acpi: guest asked for sleep type {}; only S5 (soft off) is supported, ignored", slp_typ);
    }
}

void AcpiPmRegs::read_gpe(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        uint64_t at = offset + i;
        data[i] = at < 2 ? byte_of(gpe_sts_, at) : at < 4 ? byte_of(gpe_en_, at - 2) : 0;
    }
}

void AcpiPmRegs::write_gpe(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        uint64_t at = offset + i;
        uint16_t shift = uint16_t(8 * (at & 1));
        if (at < 2) gpe_sts_ &= uint16_t(~(data[i] << shift));
        else if (at < 4) gpe_en_ = uint16_t((gpe_en_ & ~(0xff << shift)) | data[i] << shift);
    }
    update_sci_locked();
}

void AcpiPmRegs::press_power_button() {
    std::lock_guard guard(lock_);
    pm1_sts_ |= pc::PM1_STS_PWRBTN;
    update_sci_locked();
}

void AcpiPmRegs::raise_gpe(unsigned bit) {
    if (bit >= 16) return;
    std::lock_guard guard(lock_);
    gpe_sts_ |= uint16_t(1u << bit);
    update_sci_locked();
}

void AcpiPmRegs::note_timer_carry_locked(uint64_t now) {
    uint64_t carries = now >> TIMER_CARRY_SHIFT;
    if (carries != timer_carries_) pm1_sts_ |= pc::PM1_STS_TMR;
    timer_carries_ = carries;
}

void AcpiPmRegs::update_sci_locked() {
    bool level = (pm1_sts_ & pm1_en_ & PM1_SCI_EVENTS) != 0 || (gpe_sts_ & gpe_en_) != 0;
    if (level == sci_driven_) return;
    sci_driven_ = level;
    if (sci_) sci_->set_level(level);
}

bool AcpiPmRegs::sci_level() const {
    std::lock_guard guard(lock_);
    return sci_driven_;
}

void AcpiPmRegs::reset() {
    std::lock_guard guard(lock_);
    pm1_sts_ = pm1_en_ = pm1_cnt_ = 0;
    gpe_sts_ = gpe_en_ = 0;
    timer_carries_ = ticks() >> TIMER_CARRY_SHIFT;
    update_sci_locked();
}

} // namespace kestrel
