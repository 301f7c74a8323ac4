// The PIIX IDE functions as QEMU's pc has them: the board's piix3-ide, and
// piix3-ide/piix4-ide made with -device, which take the legacy ports over
// (the newest equal region answers) and name their buses as QEMU does.
#include "fake_device_context.h"
#include "tests/unit/virtio/fake_block_backend.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

struct IdeRig {
    FakeDeviceContext ctx;
    IdeBuses& buses = ctx.ide_buses;
    std::vector<std::unique_ptr<Device>> controllers;

    Device& add(std::string_view type, std::string id, const char* addr) {
        const DeviceType* t = find_device_type(type);
        REQUIRE(t);
        DeviceConfig c{"", t, std::move(id), false, t->default_values()};
        c.props.set("addr", addr);
        controllers.push_back(ctx.realize(std::move(c)));
        return *controllers.back();
    }
    void disk(const std::string& bus, unsigned unit, const std::string& serial) {
        buses.channel(bus).attach(unit, IdeDrive{std::make_shared<FakeBlockBackend>(1 << 20), serial});
    }
    // IDENTIFY DEVICE on the master at the command block `base`: the
    // serial number (words 10-19), or "" when no drive answers.
    std::string identify_serial(uint16_t base) {
        ctx.out(uint16_t(base + 6), 0xa0, 1);
        ctx.out(uint16_t(base + 7), 0xec, 1);
        if ((ctx.in(uint16_t(base + 7), 1) & 0x08) == 0) return "";  // no DRQ
        std::string serial;
        for (unsigned w = 0; w < 256; ++w) {
            uint16_t v = uint16_t(ctx.in(base, 2));
            if (w >= 10 && w < 20) serial += {char(v >> 8), char(v & 0xff)};
        }
        return serial.substr(0, serial.find_last_not_of(' ') + 1);
    }
};

} // namespace

TEST_CASE("PIIX IDE: the board's controller answers at the legacy ports") {
    IdeRig rig;
    rig.add("piix3-ide", "", "1.1");
    rig.disk("ide.0", 0, "BOARD0");
    rig.disk("ide.1", 0, "BOARD1");
    CHECK(rig.identify_serial(0x1f0) == "BOARD0");
    CHECK(rig.identify_serial(0x170) == "BOARD1");
}

TEST_CASE("PIIX IDE: a -device controller takes the legacy ports over, the newest answers") {
    IdeRig rig;
    rig.add("piix3-ide", "", "1.1");
    rig.disk("ide.0", 0, "BOARD0");
    rig.add("piix4-ide", "", "4");
    rig.disk("ide.2", 0, "SECOND");
    CHECK(rig.identify_serial(0x1f0) == "SECOND");
    CHECK(rig.identify_serial(0x170) == "");  // its own empty secondary, not the board's
    rig.add("piix3-ide", "c3", "5");
    rig.disk("c3.0", 0, "THIRD");
    CHECK(rig.identify_serial(0x1f0) == "THIRD");
    // Control block (0x3f6): the alternate status is the newest controller's drive's.
    CHECK(rig.ctx.in(0x3f6, 1) == rig.ctx.in(0x1f7, 1));
}

TEST_CASE("PIIX IDE: bus names as QEMU's automatic ids, device ids and a bus that is not there") {
    IdeRig rig;
    const Device& board = rig.add("piix3-ide", "", "1.1");
    const Device& foo = rig.add("piix3-ide", "foo", "4");
    const Device& third = rig.add("piix4-ide", "", "5");
    // What info qtree and the bootorder paths name: the buses as each controller's realize named them.
    CHECK(board.child_bus_names() == std::vector<std::string>{"ide.0", "ide.1"});
    CHECK(foo.child_bus_names() == std::vector<std::string>{"foo.0", "foo.1"});
    CHECK(third.child_bus_names() == std::vector<std::string>{"ide.2", "ide.3"});
    for (const char* bus : {"ide.0", "ide.1", "foo.0", "foo.1", "ide.2", "ide.3"}) CHECK_NOTHROW(rig.buses.channel(bus));
    CHECK_THROWS_WITH(rig.buses.channel("ide.4"), "Bus 'ide.4' not found");
    CHECK_THROWS_WITH(rig.buses.channel("foo.2"), "Bus 'foo.2' not found");
}

TEST_CASE("PIIX IDE: PCI identity of piix3-ide and piix4-ide") {
    IdeRig rig;
    PciDevice* piix3 = rig.add("piix3-ide", "", "1.1").pci_function();
    PciDevice* piix4 = rig.add("piix4-ide", "", "4").pci_function();
    REQUIRE(piix3);
    REQUIRE(piix4);
    CHECK(piix3->config_read(0, 4) == 0x70108086);
    CHECK(piix4->config_read(0, 4) == 0x71118086);
    CHECK(piix4->config_read(8, 4) == 0x01018000);  // IDE, legacy mode with bus mastering, revision 0
}
