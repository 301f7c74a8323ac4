// The PIIX4 PM function's ACPI PCI hotplug registers (0xae00), through
// the device as the board realizes it: events raise GPE0 bit 1 and the SCI,
// the guest's eject reaches the machine on the main loop, and absurd
// accesses (bogus slots, other buses, odd sizes) change nothing.
#include "devices/pc_layout.h"
#include "devices/pci_hotplug_controller.h"
#include "devices/piix/pci_hotplug_regs.h"
#include "fake_device_context.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

constexpr uint16_t HP = PciHotplugRegs::BASE;
constexpr uint16_t GPE_STS = pc::GPE0_BASE, GPE_EN = pc::GPE0_BASE + 2;

struct HotplugRig {
    FakeDeviceContext ctx;
    std::unique_ptr<Device> pm = ctx.realize("PIIX4_PM", {{"addr", "01.3"}});
    PciHotplugController& hp = *ctx.registry.find<PciHotplugController>();
    std::vector<unsigned> ejected;

    HotplugRig() {
        hp.set_removable(~0x3u);  // slots 0 and 1: the chipset
        hp.on_eject([this](unsigned slot) { ejected.push_back(slot); });
        ctx.out(GPE_EN, 1u << PciHotplugRegs::GPE_BIT, 2);
    }
    uint32_t reg(uint16_t offset) { return uint32_t(ctx.in(HP + offset, 4)); }
    void eject(uint32_t slots) {
        ctx.out(HP + PciHotplugRegs::PCEJ, slots, 4);
        for (int i = 0; i < 3; ++i) ctx.loop.run_once(0);  // the machine acts on its loop
    }
    bool sci() { return ctx.irqs[pc::ACPI_SCI_IRQ].level; }
};

} // namespace

TEST_CASE("pci hotplug: a plugged slot raises GPE 1 and the SCI; PCIU acknowledges on read") {
    HotplugRig r;
    CHECK_FALSE(r.sci());
    r.hp.device_plugged(5);
    CHECK(r.sci());
    CHECK((r.ctx.in(GPE_STS, 2) & 2) == 2);
    CHECK(r.reg(PciHotplugRegs::PCIU) == 1u << 5);
    CHECK(r.reg(PciHotplugRegs::PCIU) == 0);  // read once
    r.ctx.out(GPE_STS, 2, 2);                  // the guest clears the GPE
    CHECK_FALSE(r.sci());
    CHECK(r.reg(PciHotplugRegs::PCRMV) == ~0x3u);
    CHECK(r.ejected.empty());
}

TEST_CASE("pci hotplug: an unplug request is acknowledged by the guest's eject") {
    HotplugRig r;
    r.hp.request_unplug(7);
    CHECK(r.sci());
    CHECK(r.hp.unplug_requested(7));
    CHECK(r.reg(PciHotplugRegs::PCID) == 1u << 7);
    CHECK(r.reg(PciHotplugRegs::PCID) == 1u << 7);  // stays until ejected
    r.eject(1u << 7);
    CHECK(r.ejected == std::vector<unsigned>{7});
    CHECK(r.reg(PciHotplugRegs::PCID) == 0);
    CHECK_FALSE(r.hp.unplug_requested(7));
}

TEST_CASE("pci hotplug: ejecting the chipset's slots, nothing, or many slots at once") {
    HotplugRig r;
    r.eject(0);                    // no slot
    r.eject(1u << 1);              // the PIIX3's slot: not removable
    r.eject(1u << 0);              // the host bridge's
    CHECK(r.ejected.empty());
    r.eject(0xffffffffu);          // only the lowest slot counts: 0, the host bridge
    CHECK(r.ejected.empty());
    r.eject(0xfffffff8u);          // lowest is 3
    CHECK(r.ejected == std::vector<unsigned>{3});
    r.hp.device_plugged(40);              // no such slot: ignored
    r.hp.request_unplug(32);
    CHECK(r.reg(PciHotplugRegs::PCIU) == 0);
    CHECK(r.reg(PciHotplugRegs::PCID) == 0);
    CHECK_FALSE(r.sci());
}

TEST_CASE("pci hotplug: another bus, odd sizes and offsets, read-only registers") {
    HotplugRig r;
    r.hp.request_unplug(4);
    r.ctx.out(HP + PciHotplugRegs::BNUM, 9, 4);  // no bus 9: its registers read 0, eject ignored
    CHECK(r.reg(PciHotplugRegs::BNUM) == 9);
    CHECK(r.reg(PciHotplugRegs::PCID) == 0);
    CHECK(r.reg(PciHotplugRegs::PCRMV) == 0);
    r.eject(1u << 4);
    CHECK(r.ejected.empty());
    r.ctx.out(HP + PciHotplugRegs::BNUM, 0, 4);
    CHECK(r.reg(PciHotplugRegs::PCID) == 1u << 4);

    CHECK(r.ctx.in(HP + PciHotplugRegs::PCID, 1) == 0xff);  // only dword accesses
    CHECK(r.ctx.in(HP + PciHotplugRegs::PCID, 2) == 0xffff);
    CHECK(r.ctx.in(HP + 2, 4) == 0xffffffffu);
    r.ctx.out(HP + PciHotplugRegs::PCEJ, 0x10, 1);  // a byte write is no eject
    r.ctx.out(HP + PciHotplugRegs::PCEJ + 1, 0x10, 4);
    for (int i = 0; i < 3; ++i) r.ctx.loop.run_once(0);
    CHECK(r.ejected.empty());
    r.ctx.out(HP + PciHotplugRegs::PCID, 0, 4);  // read-only
    r.ctx.out(HP + PciHotplugRegs::PCRMV, 0, 4);
    r.ctx.out(HP + PciHotplugRegs::PCIU, 0xffffffffu, 4);
    CHECK(r.reg(PciHotplugRegs::PCID) == 1u << 4);
    CHECK(r.reg(PciHotplugRegs::PCRMV) == ~0x3u);
    CHECK(r.reg(PciHotplugRegs::PCIU) == 0);
    CHECK(r.reg(PciHotplugRegs::PIDX) == 0);
    CHECK(r.reg(PciHotplugRegs::PCEJ) == 0);
}

TEST_CASE("pci hotplug: a machine reset completes pending removals") {
    HotplugRig r;
    r.hp.request_unplug(6);
    r.hp.request_unplug(9);
    r.hp.device_plugged(12);
    r.pm->reset();
    for (int i = 0; i < 3; ++i) r.ctx.loop.run_once(0);
    CHECK(r.ejected == std::vector<unsigned>{6, 9});
    CHECK(r.reg(PciHotplugRegs::PCID) == 0);
    CHECK(r.reg(PciHotplugRegs::PCIU) == 0);
}
