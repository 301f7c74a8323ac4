#include "piix_test_board.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {
std::shared_ptr<TestPciDevice> plug(PcChipset& pc, unsigned slot, uint8_t pin) {
    auto dev = std::make_shared<TestPciDevice>();
    dev->set_interrupt_pin(pin);
    REQUIRE(pc.f->pci.add_device(slot, 0, dev));
    return dev;
}
void route(PcChipset& pc, unsigned pirq, uint8_t value) {
    pc.f->cfg_write(1, 0, uint16_t(Piix3::PIRQ_ROUTE + pirq), value, 1);
}
bool any_irq_high(PcChipset& pc) {
    for (auto& irq : pc.irqs) {
        if (irq->level) return true;
    }
    return false;
}
} // namespace

TEST_CASE("piix3 PIRQ: swizzle of slot and pin") {
    CHECK(PirqRouter::pirq_for(0, pci::PIN_INTA) == 0);
    CHECK(PirqRouter::pirq_for(1, pci::PIN_INTA) == 1);
    CHECK(PirqRouter::pirq_for(2, pci::PIN_INTA) == 2);
    CHECK(PirqRouter::pirq_for(3, pci::PIN_INTA) == 3);
    CHECK(PirqRouter::pirq_for(4, pci::PIN_INTA) == 0);
    CHECK(PirqRouter::pirq_for(3, pci::PIN_INTB) == 0);
    CHECK(PirqRouter::pirq_for(2, pci::PIN_INTD) == 1);
    CHECK(PirqRouter::irq_for_route(0x0b) == 11u);
    CHECK_FALSE(PirqRouter::irq_for_route(0x8b));
    CHECK_FALSE(PirqRouter::irq_for_route(0x02));
    CHECK_FALSE(PirqRouter::irq_for_route(0x08));
    CHECK_FALSE(PirqRouter::irq_for_route(0x0d));
}

TEST_CASE("piix3 PIRQ: routes start disabled; a re-route moves the asserted level") {
    PcChipset pc;
    for (unsigned pirq = 0; pirq < 4; ++pirq)
        CHECK(pc.f->cfg_read(1, 0, uint16_t(Piix3::PIRQ_ROUTE + pirq), 1) == 0x80);
    auto dev = plug(pc, 3, pci::PIN_INTA);  // PIRQD

    dev->set_irq_level(true);
    CHECK_FALSE(any_irq_high(pc));  // disabled route: goes nowhere
    route(pc, 3, 11);
    CHECK(pc.irq(11).level);
    route(pc, 3, 10);
    CHECK_FALSE(pc.irq(11).level);
    CHECK(pc.irq(10).level);
    dev->set_irq_level(false);
    CHECK_FALSE(pc.irq(10).level);
    dev->set_irq_level(true);
    route(pc, 3, 0x80 | 10);
    CHECK_FALSE(any_irq_high(pc));
    // Other PIRQs' registers do not move this one.
    route(pc, 3, 5);
    route(pc, 0, 9);
    CHECK(pc.irq(5).level);
    CHECK_FALSE(pc.irq(9).level);
}

TEST_CASE("piix3 PIRQ: a shared PIRQ is the OR of its functions") {
    PcChipset pc;
    auto a = plug(pc, 3, pci::PIN_INTA);  // (3 + 1 - 1) % 4 = PIRQD
    auto b = plug(pc, 2, pci::PIN_INTB);  // (2 + 2 - 1) % 4 = PIRQD
    route(pc, 3, 11);
    a->set_irq_level(true);
    b->set_irq_level(true);
    CHECK(pc.irq(11).level);
    a->set_irq_level(false);
    CHECK(pc.irq(11).level);
    b->set_irq_level(false);
    CHECK_FALSE(pc.irq(11).level);
    CHECK(pc.irq(11).changes == 2);
}

TEST_CASE("piix3 PIRQ: two PIRQs on one IRQ; reset disables routing") {
    PcChipset pc;
    auto a = plug(pc, 2, pci::PIN_INTA);  // PIRQC
    auto b = plug(pc, 3, pci::PIN_INTA);  // PIRQD
    route(pc, 2, 10);
    route(pc, 3, 10);
    a->set_irq_level(true);
    b->set_irq_level(true);
    a->set_irq_level(false);
    CHECK(pc.irq(10).level);
    route(pc, 3, 11);  // b leaves IRQ 10
    CHECK_FALSE(pc.irq(10).level);
    CHECK(pc.irq(11).level);

    pc.piix3->reset();
    CHECK_FALSE(pc.irq(11).level);
    CHECK(pc.f->cfg_read(1, 0, Piix3::PIRQ_ROUTE, 4) == 0x80808080);
    CHECK(pc.piix3->intx_router()->pirq_level(3));  // the device still holds its pin
}
