#include "devices/piix/pirq_router.h"

namespace kestrel {

PirqRouter::PirqRouter(const IrqLineFactory& lines) {
    for (unsigned irq = 0; irq < ISA_IRQ_COUNT; ++irq) {
        if (irq_for_route(uint8_t(irq)) && lines) lines_[irq] = lines(irq);
    }
}

std::optional<unsigned> PirqRouter::irq_for_route(uint8_t route) {
    if (route & ROUTE_DISABLED) return std::nullopt;
    unsigned irq = route & 0x0f;
    if (irq <= 2 || irq == 8 || irq == 13) return std::nullopt;
    return irq;
}

void PirqRouter::set_intx(unsigned slot, unsigned function, uint8_t pin, bool level) {
    if (pin < pci::PIN_INTA || pin > pci::PIN_INTD || slot >= pci::SLOTS_PER_BUS ||
        function >= pci::FUNCTIONS_PER_SLOT)
        return;
    std::lock_guard guard(lock_);
    asserted_[pirq_for(slot, pin)].set(slot * pci::FUNCTIONS_PER_SLOT + function, level);
    update_lines_locked();
}

void PirqRouter::set_route(unsigned pirq, uint8_t route) {
    if (pirq >= PIRQ_COUNT) return;
    std::lock_guard guard(lock_);
    route_[pirq] = irq_for_route(route);
    update_lines_locked();
}

bool PirqRouter::pirq_level(unsigned pirq) const {
    std::lock_guard guard(lock_);
    return pirq < PIRQ_COUNT && asserted_[pirq].any();
}

// Only lines whose level this router changed are touched, so an ISA IRQ a
// PIRQ was never steered to keeps whatever its own device drives.
void PirqRouter::update_lines_locked() {
    std::array<bool, ISA_IRQ_COUNT> want{};
    for (unsigned pirq = 0; pirq < PIRQ_COUNT; ++pirq) {
        if (route_[pirq] && asserted_[pirq].any()) want[*route_[pirq]] = true;
    }
    for (unsigned irq = 0; irq < ISA_IRQ_COUNT; ++irq) {
        if (want[irq] == driven_[irq]) continue;
        driven_[irq] = want[irq];
        if (lines_[irq]) lines_[irq]->set_level(want[irq]);
    }
}

} // namespace kestrel
