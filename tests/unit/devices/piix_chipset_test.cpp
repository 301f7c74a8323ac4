#include "piix_test_board.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("pc chipset: IDs as QEMU's pc-i440fx shows them") {
    PcChipset pc;
    auto& f = *pc.f;
    // 00:00.0 i440FX host bridge
    CHECK(f.cfg_read(0, 0, pci::VENDOR_ID) == 0x12378086);
    CHECK(f.cfg_read(0, 0, pci::REVISION_ID) == 0x06000002);
    CHECK(f.cfg_read(0, 0, pci::SUBSYSTEM_VENDOR_ID) == 0x11001af4);
    CHECK(f.cfg_read(0, 0, pci::HEADER_TYPE, 1) == 0x00);
    // 00:01.0 PIIX3 ISA bridge, multifunction
    CHECK(f.cfg_read(1, 0, pci::VENDOR_ID) == 0x70008086);
    CHECK(f.cfg_read(1, 0, pci::REVISION_ID) == 0x06010000);
    CHECK(f.cfg_read(1, 0, pci::SUBSYSTEM_VENDOR_ID) == 0x11001af4);
    CHECK(f.cfg_read(1, 0, pci::HEADER_TYPE, 1) == 0x80);
    CHECK(f.cfg_read(1, 0, pci::COMMAND) == 0x02000007);
    // 00:01.3 PIIX4 ACPI
    CHECK(f.cfg_read(1, 3, pci::VENDOR_ID) == 0x71138086);
    CHECK(f.cfg_read(1, 3, pci::REVISION_ID) == 0x06800003);
    CHECK(f.cfg_read(1, 3, pci::SUBSYSTEM_VENDOR_ID) == 0x11001af4);
    CHECK(f.cfg_read(1, 3, pci::INTERRUPT_PIN, 1) == pci::PIN_INTA);
    CHECK(f.cfg_read(1, 3, Piix4Pm::PMBA) == 0x00000001);
}

TEST_CASE("i440FX: PAM and SMRAM registers keep what is written") {
    PcChipset pc;
    auto& f = *pc.f;
    CHECK(f.cfg_read(0, 0, I440fxHost::SMRAM, 1) == I440fxHost::SMRAM_RESET);
    f.cfg_write(0, 0, I440fxHost::PAM0, 0x30, 1);
    f.cfg_write(0, 0, I440fxHost::PAM0 + 1, 0x3333, 2);
    f.cfg_write(0, 0, 0x5c, 0x00333333);
    f.cfg_write(0, 0, I440fxHost::SMRAM, 0x0a, 1);
    CHECK(f.cfg_read(0, 0, I440fxHost::PAM0, 1) == 0x30);
    CHECK(f.cfg_read(0, 0, 0x58) == 0x33333000);
    CHECK(f.cfg_read(0, 0, 0x5c) == 0x00333333);
    CHECK(f.cfg_read(0, 0, I440fxHost::SMRAM, 1) == 0x0a);
    pc.f->pci.reset();
    CHECK(f.cfg_read(0, 0, I440fxHost::PAM0, 1) == 0);
    CHECK(f.cfg_read(0, 0, I440fxHost::SMRAM, 1) == I440fxHost::SMRAM_RESET);
}

TEST_CASE("piix3 reset control at 0xCF9 next to the 0xCF8 address register") {
    PcChipset pc;
    auto& f = *pc.f;
    f.out(0xcf8, PciFixture::address(1, 3, 0), 4);

    f.out(pc::RESET_CONTROL_PORT, ResetControl::SYS_RST, 1);  // type only, no reset yet
    CHECK(pc.machine.resets.empty());
    CHECK(f.in(pc::RESET_CONTROL_PORT, 1) == ResetControl::SYS_RST);
    // The byte write did not disturb the address register, and config
    // cycles still go where it points.
    CHECK(f.in(0xcf8, 4) == PciFixture::address(1, 3, 0));
    CHECK(f.in(0xcfc, 4) == 0x71138086);

    f.out(pc::RESET_CONTROL_PORT, pc::RESET_VALUE, 1);
    REQUIRE(pc.machine.resets.size() == 1);
    CHECK(pc.machine.resets[0] == ShutdownCause::GuestReset);
    f.out(pc::RESET_CONTROL_PORT, ResetControl::RST_CPU, 1);
    CHECK(pc.machine.resets.size() == 2);

    // A dword write at 0xCF8 is the address register, never a reset.
    f.out(0xcf8, 0x80000004 | 0x0600, 4);
    CHECK(pc.machine.resets.size() == 2);
    CHECK(f.in(0xcf8, 4) == 0x80000604);

    f.out(pc::RESET_CONTROL_PORT, ResetControl::FULL_RST | ResetControl::SYS_RST, 1);
    CHECK(f.in(pc::RESET_CONTROL_PORT, 1) == 0x0a);
    pc.piix3->reset();
    CHECK(f.in(pc::RESET_CONTROL_PORT, 1) == 0);
    CHECK(pc.machine.shutdowns.empty());
}
