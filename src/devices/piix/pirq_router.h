#pragma once
// The PIIX3's PCI interrupt router: INTx pins of the bus are wired to four
// lines PIRQA-D by the usual swizzle, and each PIRQ is steered to an ISA IRQ
// by its route control register (config 0x60-0x63 of the ISA bridge).
// Levels are combined: a PIRQ is high while any function driving it is, and
// an ISA IRQ while any PIRQ routed to it is. A route change moves the level.
#include "base/irq_line.h"
#include "devices/pci/pci_bus.h"

#include <array>
#include <bitset>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace kestrel {

class PirqRouter : public IntxRouter {
public:
    static constexpr unsigned PIRQ_COUNT = 4;
    static constexpr unsigned ISA_IRQ_COUNT = 16;
    static constexpr uint8_t ROUTE_DISABLED = 0x80;  // route register bit 7; reset value

    // Gives the irqchip input for an ISA IRQ (asked once per routable IRQ at
    // construction; may return null for an IRQ that cannot be used).
    using IrqLineFactory = std::function<std::shared_ptr<IrqLine>(unsigned isa_irq)>;
    explicit PirqRouter(const IrqLineFactory& lines);

    void set_intx(unsigned slot, unsigned function, uint8_t pin, bool level) override;
    // A route control register value: bit 7 disables, bits 3:0 pick the IRQ
    // (0-2, 8 and 13 are reserved and route nowhere).
    void set_route(unsigned pirq, uint8_t route);

    // PIRQ (0 = PIRQA) of INTx `pin` (1 = INTA) of a function in `slot`.
    static unsigned pirq_for(unsigned slot, uint8_t pin) { return (slot + pin - 1) % PIRQ_COUNT; }
    static std::optional<unsigned> irq_for_route(uint8_t route);
    bool pirq_level(unsigned pirq) const;

private:
    void update_lines_locked();

    mutable std::mutex lock_;
    std::array<std::shared_ptr<IrqLine>, ISA_IRQ_COUNT> lines_;
    // Per PIRQ, the functions (slot * 8 + function) holding it high.
    std::array<std::bitset<pci::SLOTS_PER_BUS * pci::FUNCTIONS_PER_SLOT>, PIRQ_COUNT> asserted_;
    std::array<std::optional<unsigned>, PIRQ_COUNT> route_;
    std::array<bool, ISA_IRQ_COUNT> driven_{};  // the level this router last set per IRQ
};

} // namespace kestrel
