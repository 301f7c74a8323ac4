#include "piix_test_board.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {
constexpr uint16_t PM = pc::ACPI_PM_BASE;
constexpr uint16_t PM1_STS = PM + pc::PM1_EVT_OFFSET;
constexpr uint16_t PM1_EN = PM + pc::PM1_EVT_OFFSET + 2;
constexpr uint16_t PM1_CNT = PM + pc::PM1_CNT_OFFSET;
constexpr uint16_t PM_TMR = PM + pc::PM_TMR_OFFSET;

bool mapped(PcChipset& pc, uint16_t port) {
    uint8_t b;
    return pc.f->pio.read(port, {&b, 1});
}
} // namespace

TEST_CASE("piix4 PM: PMBA and PMIOSE place the PM block on the I/O bus") {
    PcChipset pc;
    auto& f = *pc.f;
    CHECK_FALSE(mapped(pc, PM));
    CHECK_FALSE(pc.pm->pm_base());

    pc.pm->program_pm_base(pc::ACPI_PM_BASE);
    CHECK(pc.pm->pm_base() == pc::ACPI_PM_BASE);
    CHECK(f.cfg_read(1, 3, Piix4Pm::PMBA) == (pc::ACPI_PM_BASE | 1u));
    CHECK(f.cfg_read(1, 3, Piix4Pm::PMREGMISC, 1) == Piix4Pm::PMIOSE);
    CHECK(mapped(pc, PM));
    CHECK(mapped(pc, PM + pc::PM_BLOCK_LEN - 1));
    CHECK_FALSE(mapped(pc, PM + pc::PM_BLOCK_LEN));

    // The guest moves it (low bits of the base are not decoded) ...
    f.cfg_write(1, 3, Piix4Pm::PMBA, 0xb03f);
    CHECK(f.cfg_read(1, 3, Piix4Pm::PMBA) == 0xb001);
    CHECK_FALSE(mapped(pc, PM));
    CHECK(mapped(pc, 0xb008));
    // ... and turns it off.
    f.cfg_write(1, 3, Piix4Pm::PMREGMISC, 0, 1);
    CHECK_FALSE(mapped(pc, 0xb008));

    pc.pm->program_pm_base(pc::ACPI_PM_BASE);
    pc.f->pci.reset();
    CHECK_FALSE(mapped(pc, PM));
    CHECK(f.cfg_read(1, 3, Piix4Pm::PMBA) == 1);
}

TEST_CASE("piix4 PM: SLP_EN with SLP_TYP S5 powers the machine off") {
    PcChipset pc;
    pc.pm->program_pm_base(pc::ACPI_PM_BASE);
    auto& f = *pc.f;
    CHECK(f.in(PM1_CNT, 2) & pc::PM1_CNT_SCI_EN);  // always in ACPI mode
    f.out(PM1_CNT, 0, 2);
    CHECK(f.in(PM1_CNT, 2) & pc::PM1_CNT_SCI_EN);

    f.out(PM1_CNT, 1u << pc::PM1_CNT_SLP_TYP_SHIFT | pc::PM1_CNT_SLP_EN, 2);  // not S5: ignored
    CHECK(pc.machine.shutdowns.empty());
    CHECK((f.in(PM1_CNT, 2) & pc::PM1_CNT_SLP_EN) == 0);  // SLP_EN reads 0

    f.out(PM1_CNT, pc::SLP_TYP_S5 << pc::PM1_CNT_SLP_TYP_SHIFT, 2);  // type without SLP_EN
    CHECK(pc.machine.shutdowns.empty());
    // Linux writes the type, then type | SLP_EN; a byte write of the high byte works too.
    f.out(PM1_CNT + 1, (pc::SLP_TYP_S5 << pc::PM1_CNT_SLP_TYP_SHIFT | pc::PM1_CNT_SLP_EN) >> 8, 1);
    REQUIRE(pc.machine.shutdowns.size() == 1);
    CHECK(pc.machine.shutdowns[0] == ShutdownCause::GuestPoweroff);
    CHECK(pc.machine.resets.empty());
}

TEST_CASE("piix4 PM: the timer counts at 3.579545 MHz in 24 bits") {
    PcChipset pc;
    pc.pm->program_pm_base(pc::ACPI_PM_BASE);
    auto& f = *pc.f;
    pc.now_ns = 0;
    CHECK(f.in(PM_TMR, 4) == 0);
    pc.now_ns = 1'000'000;  // 1 ms
    CHECK(f.in(PM_TMR, 4) == 3579);
    pc.now_ns = 1'000'000'000;  // 1 s
    CHECK(f.in(PM_TMR, 4) == 3579545);
    CHECK(f.in(PM_TMR, 2) == (3579545 & 0xffff));
    CHECK(f.in(PM_TMR + 2, 1) == (3579545 >> 16));
    CHECK(f.in(PM_TMR + 3, 1) == 0);
    pc.now_ns = 5'000'000'000;  // 17897725 ticks wraps past 2^24
    CHECK(f.in(PM_TMR, 4) == 17897725 - (1u << 24));
    // After a long uptime (10 days) the arithmetic must not overflow.
    pc.now_ns = 864'000'000'000'000ull;
    CHECK(f.in(PM_TMR, 4) == (3092726880000ull & 0xffffff));
    f.out(PM_TMR, 0, 4);  // read-only
    CHECK(f.in(PM_TMR, 4) == (3092726880000ull & 0xffffff));
}

TEST_CASE("piix4 PM: TMR_STS is set when the timer's bit 23 toggles") {
    PcChipset pc;
    pc.pm->program_pm_base(pc::ACPI_PM_BASE);
    auto& f = *pc.f;
    pc.now_ns = 0;
    pc.pm->registers().reset();
    CHECK((f.in(PM1_STS, 2) & pc::PM1_STS_TMR) == 0);
    pc.now_ns = 2'000'000'000;  // 7.1M ticks, below 2^23
    CHECK((f.in(PM1_STS, 2) & pc::PM1_STS_TMR) == 0);
    pc.now_ns = 2'400'000'000;  // 8.59M ticks, past 2^23 = 8.39M
    CHECK(f.in(PM1_STS, 2) & pc::PM1_STS_TMR);
    CHECK_FALSE(pc.irq(pc::ACPI_SCI_IRQ).level);  // TMR_EN is clear
    f.out(PM1_EN, AcpiPmRegs::PM1_EN_TMR, 2);
    CHECK(pc.irq(pc::ACPI_SCI_IRQ).level);
    f.out(PM1_STS, pc::PM1_STS_TMR, 2);
    CHECK((f.in(PM1_STS, 2) & pc::PM1_STS_TMR) == 0);
    CHECK_FALSE(pc.irq(pc::ACPI_SCI_IRQ).level);
}

TEST_CASE("piix4 PM: the power button raises the SCI when enabled; W1C clears it") {
    PcChipset pc;
    pc.pm->program_pm_base(pc::ACPI_PM_BASE);
    auto& f = *pc.f;
    auto& sci = pc.irq(pc::ACPI_SCI_IRQ);

    pc.pm->press_power_button();
    CHECK(f.in(PM1_STS, 2) & pc::PM1_STS_PWRBTN);
    CHECK_FALSE(sci.level);  // PWRBTN_EN clear
    f.out(PM1_EN, AcpiPmRegs::PM1_EN_PWRBTN, 2);
    CHECK(sci.level);
    CHECK(f.in(PM1_EN, 2) == AcpiPmRegs::PM1_EN_PWRBTN);
    f.out(PM1_STS, 0, 2);  // writing 0 clears nothing
    CHECK(sci.level);
    f.out(PM1_STS, pc::PM1_STS_PWRBTN, 2);
    CHECK_FALSE(sci.level);
    CHECK((f.in(PM1_STS, 2) & pc::PM1_STS_PWRBTN) == 0);

    pc.pm->press_power_button();
    CHECK(sci.level);
    // A dword write over status and enable, as some guests do: clear status, keep enable.
    f.out(PM1_STS, uint32_t(AcpiPmRegs::PM1_EN_PWRBTN) << 16 | pc::PM1_STS_PWRBTN, 4);
    CHECK_FALSE(sci.level);
    CHECK(f.in(PM1_EN, 2) == AcpiPmRegs::PM1_EN_PWRBTN);

    pc.pm->press_power_button();
    pc.f->pci.reset();  // machine reset drops the event and the SCI
    CHECK_FALSE(sci.level);
    CHECK(pc.machine.shutdowns.empty());
}

TEST_CASE("piix4 PM: GPE0 status and enable at the fixed block") {
    PcChipset pc;
    auto& f = *pc.f;
    auto& sci = pc.irq(pc::ACPI_SCI_IRQ);
    pc.pm->raise_gpe(1);
    CHECK(f.in(pc::GPE0_BASE, 2) == 0x0002);
    CHECK_FALSE(sci.level);
    f.out(pc::GPE0_BASE + 2, 0x0002, 2);
    CHECK(f.in(pc::GPE0_BASE, 4) == 0x00020002);
    CHECK(sci.level);
    f.out(pc::GPE0_BASE, 0x0002, 1);
    CHECK(f.in(pc::GPE0_BASE, 2) == 0);
    CHECK_FALSE(sci.level);
    CHECK(f.in(pc::GPE0_BASE + 2, 2) == 0x0002);
}
