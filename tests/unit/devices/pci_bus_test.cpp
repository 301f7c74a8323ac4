#include "pci_test_fakes.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("pci mechanism #1: the address register reads back, dword accesses only") {
    PciFixture f;
    f.out(0xcf8, 0x80001234, 4);
    CHECK(f.in(0xcf8, 4) == 0x80001234);
    f.out(0xcf8, 0xffffffff, 4);
    CHECK(f.in(0xcf8, 4) == 0x80fffffc);  // reserved bits 30:24 and 1:0 read 0
    f.out(0xcf8, 0x12, 1);                // byte and word writes do not reach it
    f.out(0xcfa, 0x3456, 2);
    CHECK(f.in(0xcf8, 4) == 0x80fffffc);
    CHECK(f.in(0xcf8, 1) == 0xff);
}

TEST_CASE("pci mechanism #1: byte, word and dword data accesses hit the right bytes") {
    PciFixture f;
    auto dev = std::make_shared<TestPciDevice>();
    REQUIRE(f.pci.add_device(2, 0, dev));
    f.out(0xcf8, PciFixture::address(2, 0, pci::VENDOR_ID), 4);
    CHECK(f.in(0xcfc, 4) == 0x56781234);
    CHECK(f.in(0xcfc, 2) == 0x1234);
    CHECK(f.in(0xcfe, 2) == 0x5678);
    CHECK(f.in(0xcfd, 1) == 0x12);
    CHECK(f.in(0xcff, 1) == 0x56);

    f.out(0xcf8, PciFixture::address(2, 0, 0x40), 4);
    f.out(0xcfc, 0x11223344, 4);
    f.out(0xcfd, 0xaa, 1);
    f.out(0xcfe, 0xbbcc, 2);
    CHECK(f.in(0xcfc, 4) == 0xbbccaa44);
    CHECK(dev->config_read(0x40, 4) == 0xbbccaa44);
    // A word at 0xCFF only reaches the last byte of the register.
    f.out(0xcff, 0x0000, 2);
    CHECK(dev->config_read(0x40, 4) == 0x00ccaa44);
    // Register numbers come from the address register, not from low bits.
    CHECK(f.cfg_read(2, 0, 0x42, 2) == 0x00cc);
}

TEST_CASE("pci mechanism #1: absent functions, other buses and a clear enable bit read all ones") {
    PciFixture f;
    auto dev = std::make_shared<TestPciDevice>();
    REQUIRE(f.pci.add_device(0, 0, dev));
    CHECK(f.cfg_read(0, 0, 0) == 0x56781234);
    CHECK(f.cfg_read(7, 0, 0) == 0xffffffff);
    CHECK(f.cfg_read(0, 1, 0) == 0xffffffff);
    CHECK(f.cfg_read(7, 0, 0, 2) == 0xffff);

    f.out(0xcf8, PciFixture::address(0, 0, 0, /*bus=*/1), 4);
    CHECK(f.in(0xcfc, 4) == 0xffffffff);

    f.out(0xcf8, PciFixture::address(0, 0, 0x40) & ~PciConfigIo::ENABLE, 4);
    CHECK(f.in(0xcfc, 4) == 0xffffffff);
    f.out(0xcfc, 0x55555555, 4);  // ignored
    CHECK(dev->config_read(0x40, 4) == 0);
}

TEST_CASE("pci bus: functions 0-7 per slot, QEMU's first free slot") {
    PciFixture f;
    CHECK(f.pci.next_free_slot() == 0u);
    REQUIRE(f.pci.add_device(0, 0, std::make_shared<TestPciDevice>()));
    REQUIRE(f.pci.add_device(1, 0, std::make_shared<TestPciDevice>()));
    auto fn3 = std::make_shared<TestPciDevice>();
    REQUIRE(f.pci.add_device(1, 3, fn3));
    CHECK(f.pci.next_free_slot() == 2u);
    CHECK(f.pci.device(1, 3) == fn3);
    CHECK(fn3->slot() == 1);
    CHECK(fn3->function() == 3);
    CHECK_FALSE(f.pci.add_device(1, 3, std::make_shared<TestPciDevice>()));  // taken
    CHECK_FALSE(f.pci.add_device(32, 0, std::make_shared<TestPciDevice>()));
    CHECK_FALSE(f.pci.add_device(2, 8, std::make_shared<TestPciDevice>()));

    fn3->set_cfg8(0x44, 0x5a);
    CHECK(f.cfg_read(1, 3, 0x44, 1) == 0x5a);

    // A slot with only a higher function used is not free.
    REQUIRE(f.pci.add_device(2, 1, std::make_shared<TestPciDevice>()));
    CHECK(f.pci.next_free_slot() == 3u);
}

// Hot unplug: the function leaves its slot with its BARs unmapped (the
// device hears of it) and its INTx low; the slot is free again.
TEST_CASE("pci bus: remove_device detaches the function and frees the slot") {
    PciFixture f;
    struct Handler : BusDevice {
        void read(uint64_t, std::span<uint8_t> d) override { std::fill(d.begin(), d.end(), 0x5a); }
        void write(uint64_t, std::span<const uint8_t>) override {}
    };
    auto dev = std::make_shared<TestPciDevice>();
    dev->add_bar(0, 0x20, BarKind::Io, false, std::make_shared<Handler>());
    dev->set_interrupt_pin(pci::PIN_INTA);
    REQUIRE(f.pci.add_device(5, 0, dev));
    f.cfg_write(5, 0, pci::BAR0, 0xc040);
    f.cfg_write(5, 0, pci::COMMAND, pci::COMMAND_IO, 2);
    uint8_t b = 0;
    REQUIRE(f.pio.read(0xc040, {&b, 1}));
    CHECK(b == 0x5a);

    CHECK(f.pci.remove_device(5, 1) == nullptr);   // nothing there
    CHECK(f.pci.remove_device(40, 0) == nullptr);  // no such slot
    CHECK(f.pci.remove_device(5, 0) == dev);
    CHECK_FALSE(dev->attached());
    CHECK_FALSE(f.pio.read(0xc040, {&b, 1}));
    REQUIRE_FALSE(dev->moves.empty());
    CHECK(dev->moves.back().index == 0);
    CHECK(dev->moves.back().to == std::nullopt);
    CHECK(f.cfg_read(5, 0, 0) == 0xffffffff);
    CHECK(f.pci.next_free_slot() == 0u);
    auto again = std::make_shared<TestPciDevice>();
    CHECK(f.pci.add_device(5, 0, again));
    CHECK(f.pci.remove_device(5, 0) == again);
    CHECK(f.pci.remove_device(5, 0) == nullptr);    // twice: nothing the second time
}
