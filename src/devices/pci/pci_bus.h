#pragma once
// PCI bus 0 of the pc machine: 32 slots of up to 8 functions, the
// configuration accesses the host bridge forwards to them, and the INTx
// wiring from each function's pin to the chipset's interrupt router.
#include "devices/bus.h"
#include "devices/pci/pci_device.h"

#include <array>
#include <memory>
#include <optional>
#include <shared_mutex>

namespace kestrel {

// Where the chipset takes INTx pins (the PIIX3 PIRQ router on pc). Called
// from any thread that changes a pin's level; must not call back into the
// device.
class IntxRouter {
public:
    virtual ~IntxRouter() = default;
    // pin: 1 = INTA … 4 = INTD, as the function's Interrupt Pin register.
    virtual void set_intx(unsigned slot, unsigned function, uint8_t pin, bool level) = 0;
};

class PciBus {
public:
    // BARs are mapped on these buses; they must outlive the PciBus.
    PciBus(Bus& pio, Bus& mmio);

    // Plugs `device` in at slot.function and attaches it (BAR placement,
    // INTx). False if the address is out of range or taken.
    [[nodiscard]] bool add_device(unsigned slot, unsigned function, std::shared_ptr<PciDevice> device);
    // Hot unplug: takes the function out of slot.function and detaches it
    // (BARs unmapped, INTx low). Returns it; null if none was there.
    std::shared_ptr<PciDevice> remove_device(unsigned slot, unsigned function);
    // QEMU's default placement for a -device without addr=: the first slot
    // with no function in use.
    std::optional<unsigned> next_free_slot() const;
    std::shared_ptr<PciDevice> device(unsigned slot, unsigned function) const;

    void set_intx_router(std::shared_ptr<IntxRouter> router);

    // Type 0 configuration cycles; an absent function reads all ones.
    uint32_t config_read(unsigned slot, unsigned function, uint16_t offset, unsigned len) const;
    void config_write(unsigned slot, unsigned function, uint16_t offset, unsigned len, uint32_t value);

    // Resets every function (machine reset).
    void reset();

private:
    static constexpr unsigned DEVFN_COUNT = pci::SLOTS_PER_BUS * pci::FUNCTIONS_PER_SLOT;
    void route_intx(unsigned slot, unsigned function, uint8_t pin, bool level);
    std::vector<std::shared_ptr<PciDevice>> all_devices() const;

    Bus& pio_;
    Bus& mmio_;
    mutable std::shared_mutex lock_;
    std::array<std::shared_ptr<PciDevice>, DEVFN_COUNT> functions_;
    std::shared_ptr<IntxRouter> router_;
};

} // namespace kestrel
