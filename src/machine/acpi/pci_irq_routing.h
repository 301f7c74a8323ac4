#pragma once
// How PCI INTx pins reach the PIIX3 PIRQ lines on the pc machine. The DSDT's
// _PRT (firmware/dsdt.asl) publishes exactly this; the PIIX3/host-bridge model
// must route interrupts the same way.
namespace kestrel::pc {

constexpr unsigned PIRQ_ROUTE_REG = 0x60;  // PIIX3 config 0x60-0x63: PIRQA..PIRQD

// pin: 0 = INTA .. 3 = INTD. Returns 0 = PIRQA (LNKA) .. 3 = PIRQD (LNKD).
// Slot 1 INTA (the PM function) is the SCI, IRQ 9, instead.
constexpr unsigned pirq_for(unsigned slot, unsigned pin) { return (slot + pin) % 4; }

} // namespace kestrel::pc
