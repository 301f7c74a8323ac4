#include "pci_test_fakes.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("pci config: read-only header fields ignore writes, writable ones keep them") {
    TestPciDevice dev;
    dev.set_interrupt_pin(pci::PIN_INTA);
    dev.config_write(pci::VENDOR_ID, 4, 0xffffffff);
    dev.config_write(pci::REVISION_ID, 4, 0xffffffff);
    dev.config_write(pci::SUBSYSTEM_VENDOR_ID, 4, 0);
    CHECK(dev.config_read(pci::VENDOR_ID, 4) == 0x56781234);
    CHECK(dev.config_read(pci::REVISION_ID, 4) == 0x02000001);
    CHECK(dev.config_read(pci::SUBSYSTEM_VENDOR_ID, 4) == 0x11001af4);

    dev.config_write(pci::INTERRUPT_LINE, 2, 0xffff);  // line is writable, pin is not
    CHECK(dev.config_read(pci::INTERRUPT_LINE, 2) == 0x01ff);
    dev.config_write(pci::CACHE_LINE_SIZE, 2, 0xffff);  // cache line yes, latency timer no
    CHECK(dev.config_read(pci::CACHE_LINE_SIZE, 2) == 0x00ff);
    dev.config_write(pci::COMMAND, 2, 0xffff);
    CHECK(dev.config_read(pci::COMMAND, 2) == 0x0407);
    dev.config_write(pci::HEADER_TYPE, 1, 0xff);
    CHECK(dev.config_read(pci::HEADER_TYPE, 1) == 0);
    dev.config_write(pci::ROM_ADDRESS, 4, 0xffffffff);  // no expansion ROM
    CHECK(dev.config_read(pci::ROM_ADDRESS, 4) == 0);

    dev.config_write(0x40, 4, 0xdeadbeef);  // device-specific registers are stored
    CHECK(dev.config_read(0x40, 4) == 0xdeadbeef);
    CHECK(dev.config_read(0x41, 2) == 0xadbe);
}

TEST_CASE("pci config: status error bits are write-1-to-clear") {
    TestPciDevice dev;
    uint16_t set = pci::STATUS_REC_MASTER_ABORT | pci::STATUS_DETECTED_PARITY | pci::STATUS_DEVSEL_MEDIUM;
    dev.set_cfg16(pci::STATUS, set);
    dev.config_write(pci::STATUS, 2, 0);
    CHECK(dev.config_read(pci::STATUS, 2) == set);
    dev.config_write(pci::STATUS, 2, pci::STATUS_REC_MASTER_ABORT | pci::STATUS_DEVSEL_MEDIUM);
    CHECK(dev.config_read(pci::STATUS, 2) == (pci::STATUS_DETECTED_PARITY | pci::STATUS_DEVSEL_MEDIUM));
    // A dword write through the command register must not clear status by accident.
    dev.config_write(pci::COMMAND, 4, pci::COMMAND_MEMORY);
    CHECK(dev.config_read(pci::STATUS, 2) == (pci::STATUS_DETECTED_PARITY | pci::STATUS_DEVSEL_MEDIUM));
    dev.config_write(pci::STATUS, 2, 0xffff);
    CHECK(dev.config_read(pci::STATUS, 2) == pci::STATUS_DEVSEL_MEDIUM);
}

TEST_CASE("pci BARs: sizing reports size and type for I/O, Mem32 and Mem64") {
    TestPciDevice dev;
    dev.add_bar(0, 0x20, BarKind::Io, false, nullptr);
    dev.add_bar(1, 0x1000, BarKind::Mem32, true, nullptr);
    dev.add_bar(2, 0x4000, BarKind::Mem64, true, nullptr);
    dev.add_bar(4, 8ull << 30, BarKind::Mem64, false, nullptr);

    CHECK(dev.config_read(pci::BAR0, 4) == pci::BAR_SPACE_IO);
    CHECK(dev.config_read(pci::BAR0 + 8, 4) == (pci::BAR_MEM_TYPE_64 | pci::BAR_MEM_PREFETCH));
    for (uint16_t reg = pci::BAR0; reg < pci::BAR0 + 24; reg += 4) dev.config_write(reg, 4, 0xffffffff);
    CHECK(dev.config_read(pci::BAR0, 4) == 0xffffffe1);
    CHECK(dev.config_read(pci::BAR0 + 4, 4) == 0xfffff008);
    CHECK(dev.config_read(pci::BAR0 + 8, 4) == 0xffffc00c);
    CHECK(dev.config_read(pci::BAR0 + 12, 4) == 0xffffffff);
    CHECK(dev.config_read(pci::BAR0 + 16, 4) == 0x00000004);
    CHECK(dev.config_read(pci::BAR0 + 20, 4) == 0xfffffffe);

    TestPciDevice empty;
    empty.config_write(pci::BAR0, 4, 0xffffffff);
    CHECK(empty.config_read(pci::BAR0, 4) == 0);  // unimplemented BAR
}

TEST_CASE("pci BARs: bad registrations are refused") {
    TestPciDevice dev;
    CHECK_THROWS(dev.add_bar(0, 0x30, BarKind::Mem32, false, nullptr));  // not a power of two
    CHECK_THROWS(dev.add_bar(0, 2, BarKind::Io, false, nullptr));        // below the minimum
    CHECK_THROWS(dev.add_bar(5, 0x1000, BarKind::Mem64, false, nullptr)); // needs two registers
    dev.add_bar(2, 0x1000, BarKind::Mem64, false, nullptr);
    CHECK_THROWS(dev.add_bar(3, 0x1000, BarKind::Mem32, false, nullptr)); // upper half of BAR 2
    CHECK_THROWS(dev.add_bar(2, 0x1000, BarKind::Mem32, false, nullptr));
}

TEST_CASE("pci BARs: the command register maps and unmaps, moves re-map the handler") {
    PciFixture f;
    auto regs = std::make_shared<RecordingDevice>();
    auto mem = std::make_shared<RecordingDevice>();
    auto dev = std::make_shared<TestPciDevice>();
    dev->add_bar(0, 0x20, BarKind::Io, false, regs);
    dev->add_bar(2, 0x4000, BarKind::Mem64, false, mem);
    REQUIRE(f.pci.add_device(4, 0, dev));

    f.cfg_write(4, 0, pci::BAR0, 0xc000);
    f.cfg_write(4, 0, pci::BAR0 + 8, 0xfe000000);
    f.cfg_write(4, 0, pci::BAR0 + 12, 0x1);  // 0x1_fe000000
    uint8_t b[4];
    CHECK_FALSE(f.pio.read(0xc004, {b, 1}));  // decoding is off
    CHECK_FALSE(dev->bar_address(0));

    f.cfg_write(4, 0, pci::COMMAND, pci::COMMAND_IO, 2);
    CHECK(f.pio.write(0xc004, std::span<const uint8_t>{b, 1}));
    CHECK(regs->last_offset == 4);
    CHECK_FALSE(f.mmio.read(0x1fe000000ull, {b, 4}));  // memory still off
    CHECK(dev->bar_address(0) == 0xc000);

    f.cfg_write(4, 0, pci::COMMAND, pci::COMMAND_IO | pci::COMMAND_MEMORY, 2);
    CHECK(f.mmio.read(0x1fe000010ull, {b, 4}));
    CHECK(mem->last_offset == 0x10);
    CHECK(dev->bar_address(2) == 0x1fe000000ull);

    // Move the I/O BAR: the new address reaches the handler, the old does not.
    f.cfg_write(4, 0, pci::BAR0, 0xd000);
    regs->accesses = 0;
    CHECK_FALSE(f.pio.read(0xc004, {b, 1}));
    CHECK(f.pio.read(0xd008, {b, 1}));
    CHECK(regs->accesses == 1);
    CHECK(regs->last_offset == 8);
    CHECK(b[0] == 0xa8);

    // The hook saw every placement change.
    REQUIRE(dev->moves.size() == 3);
    CHECK(dev->moves[0].index == 0);
    CHECK(dev->moves[2].from == 0xc000);
    CHECK(dev->moves[2].to == 0xd000);

    f.cfg_write(4, 0, pci::COMMAND, 0, 2);
    CHECK_FALSE(f.pio.read(0xd008, {b, 1}));
    CHECK_FALSE(f.mmio.read(0x1fe000010ull, {b, 4}));
    CHECK_FALSE(dev->bar_address(0));
}

TEST_CASE("pci BARs: sizing with decoding on does not map at the all-ones address") {
    PciFixture f;
    auto dev = std::make_shared<TestPciDevice>();
    dev->add_bar(1, 0x1000, BarKind::Mem32, false, std::make_shared<RecordingDevice>());
    dev->add_bar(0, 0x100, BarKind::Io, false, std::make_shared<RecordingDevice>());
    REQUIRE(f.pci.add_device(3, 0, dev));
    f.cfg_write(3, 0, pci::COMMAND, pci::COMMAND_IO | pci::COMMAND_MEMORY, 2);
    f.cfg_write(3, 0, pci::BAR0 + 4, 0xffffffff);
    f.cfg_write(3, 0, pci::BAR0, 0xffffffff);
    CHECK_FALSE(dev->bar_address(1));
    CHECK_FALSE(dev->bar_address(0));
    f.cfg_write(3, 0, pci::BAR0 + 4, 0xfebf0000);
    CHECK(dev->bar_address(1) == 0xfebf0000);
}

TEST_CASE("pci BARs: a BAR placed over another waits until that one moves away") {
    PciFixture f;
    auto a = std::make_shared<TestPciDevice>();
    auto b = std::make_shared<TestPciDevice>();
    auto a_regs = std::make_shared<RecordingDevice>();
    auto b_regs = std::make_shared<RecordingDevice>();
    a->add_bar(0, 0x40, BarKind::Io, false, a_regs);
    b->add_bar(0, 0x40, BarKind::Io, false, b_regs);
    REQUIRE(f.pci.add_device(2, 0, a));
    REQUIRE(f.pci.add_device(3, 0, b));
    for (unsigned slot : {2u, 3u}) {
        f.cfg_write(slot, 0, pci::BAR0, 0xc000);
        f.cfg_write(slot, 0, pci::COMMAND, pci::COMMAND_IO, 2);
    }
    CHECK(a->bar_address(0) == 0xc000);
    CHECK_FALSE(b->bar_address(0));
    f.cfg_write(2, 0, pci::BAR0, 0xc100);  // a moves away; b takes its place
    CHECK(b->bar_address(0) == 0xc000);
    uint8_t v;
    f.pio.read(0xc000, {&v, 1});
    CHECK(b_regs->accesses == 1);
    CHECK(a_regs->accesses == 0);
}

TEST_CASE("pci capabilities: the list is linked and the status bit set") {
    TestPciDevice dev;
    CHECK((dev.config_read(pci::STATUS, 2) & pci::STATUS_CAP_LIST) == 0);
    uint16_t first = dev.add_capability(pci::CAP_ID_VENDOR, 6);
    uint16_t second = dev.add_capability(pci::CAP_ID_MSIX, 12);
    uint16_t third = dev.add_capability(pci::CAP_ID_PM, 8, uint16_t(0xc0));
    CHECK(first == 0x40);
    CHECK(second == 0x48);  // 4-aligned after the first
    CHECK(third == 0xc0);
    CHECK(dev.config_read(pci::STATUS, 2) & pci::STATUS_CAP_LIST);
    CHECK(dev.config_read(pci::CAPABILITY_LIST, 1) == first);
    CHECK(dev.config_read(first, 2) == (pci::CAP_ID_VENDOR | unsigned(second) << 8));
    CHECK(dev.config_read(second, 2) == (pci::CAP_ID_MSIX | unsigned(third) << 8));
    CHECK(dev.config_read(third, 2) == pci::CAP_ID_PM);

    // Capability bytes are read-only unless the device opens a field.
    dev.config_write(second, 4, 0xffffffff);
    CHECK(dev.config_read(second, 4) == (pci::CAP_ID_MSIX | unsigned(third) << 8));
    dev.set_write_mask(uint16_t(second + 3), 1, 0xc0);
    dev.config_write(second + 3, 1, 0xff);
    CHECK(dev.config_read(second + 3, 1) == 0xc0);

    CHECK_THROWS(dev.add_capability(pci::CAP_ID_MSI, 8, uint16_t(0x44)));  // overlaps
    CHECK_THROWS(dev.add_capability(pci::CAP_ID_MSI, 0x40, uint16_t(0xf0)));  // past 256
}

TEST_CASE("pci reset restores the power-on configuration and unmaps BARs") {
    PciFixture f;
    auto regs = std::make_shared<RecordingDevice>();
    auto dev = std::make_shared<TestPciDevice>();
    dev->add_bar(0, 0x10, BarKind::Io, false, regs);
    REQUIRE(f.pci.add_device(5, 0, dev));
    f.cfg_write(5, 0, pci::BAR0, 0xc040);
    f.cfg_write(5, 0, pci::COMMAND, pci::COMMAND_IO, 2);
    f.cfg_write(5, 0, pci::INTERRUPT_LINE, 11, 1);
    f.cfg_write(5, 0, 0x50, 0x12345678);
    REQUIRE(dev->bar_address(0) == 0xc040);

    f.pci.reset();
    CHECK(dev->config_read(pci::COMMAND, 2) == 0);
    CHECK(dev->config_read(pci::BAR0, 4) == pci::BAR_SPACE_IO);
    CHECK(dev->config_read(pci::INTERRUPT_LINE, 1) == 0);
    CHECK(dev->config_read(0x50, 4) == 0);
    CHECK(dev->config_read(pci::VENDOR_ID, 4) == 0x56781234);
    CHECK_FALSE(dev->bar_address(0));
    uint8_t v;
    CHECK_FALSE(f.pio.read(0xc040, {&v, 1}));
}

TEST_CASE("pci INTx: pin level, status bit and INTx Disable") {
    PciFixture f;
    auto router = std::make_shared<FakeIntxRouter>();
    f.pci.set_intx_router(router);
    auto dev = std::make_shared<TestPciDevice>();
    dev->set_interrupt_pin(pci::PIN_INTB);
    REQUIRE(f.pci.add_device(6, 2, dev));

    dev->set_irq_level(true);
    REQUIRE(router->calls.size() == 1);
    CHECK(router->calls[0].slot == 6);
    CHECK(router->calls[0].function == 2);
    CHECK(router->calls[0].pin == pci::PIN_INTB);
    CHECK(router->calls[0].level);
    CHECK(f.cfg_read(6, 2, pci::STATUS, 2) & pci::STATUS_INTERRUPT);
    dev->set_irq_level(true);  // no change, no call
    CHECK(router->calls.size() == 1);

    // INTx Disable masks the pin towards the bus but not the status bit.
    f.cfg_write(6, 2, pci::COMMAND, pci::COMMAND_INTX_DISABLE, 2);
    REQUIRE(router->calls.size() == 2);
    CHECK_FALSE(router->calls[1].level);
    CHECK(f.cfg_read(6, 2, pci::STATUS, 2) & pci::STATUS_INTERRUPT);
    f.cfg_write(6, 2, pci::COMMAND, 0, 2);
    REQUIRE(router->calls.size() == 3);
    CHECK(router->calls[2].level);

    dev->reset();
    REQUIRE(router->calls.size() == 4);
    CHECK_FALSE(router->calls[3].level);
    CHECK((f.cfg_read(6, 2, pci::STATUS, 2) & pci::STATUS_INTERRUPT) == 0);
}

TEST_CASE("pci config_written hook sees each guest write") {
    TestPciDevice dev;
    dev.config_write(0x44, 2, 0xabcd);
    dev.config_write(pci::COMMAND, 4, 0);
    REQUIRE(dev.writes.size() == 2);
    CHECK(dev.writes[0] == std::pair<uint16_t, unsigned>{0x44, 2});
    CHECK(dev.writes[1] == std::pair<uint16_t, unsigned>{pci::COMMAND, 4});
}
