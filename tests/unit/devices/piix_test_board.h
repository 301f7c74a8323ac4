#pragma once
// The pc chipset wired as the board does it, with fake IRQ lines, a fake
// machine and a clock the test sets.
#include "devices/piix/i440fx.h"
#include "devices/piix/piix3.h"
#include "devices/piix/piix4_pm.h"
#include "kvm/pc_memory_map.h"
#include "devices/pc_layout.h"
#include "pci_test_fakes.h"

#include <array>
#include <catch2/catch.hpp>
#include <memory>

namespace kestrel::test {

struct PcChipset {
    FakeMachine machine;
    std::array<std::shared_ptr<FakeIrqLine>, 16> irqs;
    uint64_t now_ns = 5'000'000'000;
    std::shared_ptr<Piix3> piix3;
    std::unique_ptr<PciFixture> f;
    std::shared_ptr<I440fxHost> host = std::make_shared<I440fxHost>();
    std::shared_ptr<Piix4Pm> pm;

    PcChipset() {
        for (auto& irq : irqs) irq = std::make_shared<FakeIrqLine>();
        piix3 = std::make_shared<Piix3>(machine, [this](unsigned irq) { return irqs[irq]; });
        f = std::make_unique<PciFixture>(piix3->reset_control());
        pm = std::make_shared<Piix4Pm>(f->pio, machine, irqs[pc::ACPI_SCI_IRQ], [this] { return now_ns; });
        REQUIRE(f->pci.add_device(0, 0, host));
        REQUIRE(f->pci.add_device(1, 0, piix3));
        REQUIRE(f->pci.add_device(1, 3, pm));
        f->pci.set_intx_router(piix3->intx_router());
        REQUIRE(f->pio.insert(pc::GPE0_BASE, pc::GPE0_LEN, pm->gpe0_block()));
    }

    FakeIrqLine& irq(unsigned n) { return *irqs[n]; }
};

} // namespace kestrel::test
