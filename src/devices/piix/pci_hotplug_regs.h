#pragma once
// ACPI PCI hotplug registers of the PIIX4 PM function, at I/O 0xae00 as
// QEMU's pc machine has them (docs/specs/acpi_pci_hotplug.rst in QEMU):
//   0x00 PCIU  slots with a device added since last read (read clears)
//   0x04 PCID  slots whose device the host asks the guest to eject
//   0x08 PCEJ  write a slot bitmap: the guest ejected the lowest slot in it
//   0x0c PCRMV slots whose device may be removed (empty or hotpluggable)
//   0x10 BNUM  selects the bus the others refer to (only bus 0 exists here)
//   0x14 PIDX  ACPI index of a slot: no device has one, reads 0
// Each is a 32-bit register; other access sizes or offsets are ignored
// (reads all ones). An event sets GPE0 status bit 1 (raise_gpe), which
// raises the SCI while the guest enables it; the DSDT's _E01 reads PCIU
// and PCID and notifies the slots.
#include "devices/bus_device.h"

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace kestrel {

// The guest-visible state, in one plain struct.
struct PciHotplugState {
    uint32_t up = 0;              // PCIU
    uint32_t down = 0;            // PCID
    uint32_t hotplug_enable = 0;  // PCRMV
    uint32_t bus_select = 0;      // BNUM
};

class PciHotplugRegs final : public BusDevice {
public:
    static constexpr uint16_t BASE = 0xae00;
    static constexpr uint16_t LENGTH = 0x18;
    static constexpr unsigned GPE_BIT = 1;  // GPE0 status bit of a hotplug event
    static constexpr uint16_t PCIU = 0x00, PCID = 0x04, PCEJ = 0x08, PCRMV = 0x0c, BNUM = 0x10, PIDX = 0x14;

    // `raise_gpe` sets GPE0 status bit GPE_BIT; `eject` runs (without this
    // object's lock held) for a slot the guest ejected whose removal was
    // asked for or whose device is hotpluggable: the machine removes it.
    PciHotplugRegs(std::function<void()> raise_gpe, std::function<void(unsigned slot)> eject);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

    // Slots whose device cannot be removed (the chipset's) are cleared
    // from PCRMV; the board sets it once its devices exist.
    void set_removable(uint32_t slots);
    // Host side: a device was added at `slot`; removal of `slot`'s device
    // is asked of the guest. Both raise the GPE.
    void plugged(unsigned slot);
    void request_unplug(unsigned slot);
    bool unplug_requested(unsigned slot) const;
    // Replaces the eject callback (the machine's, once it is ready).
    void on_eject(std::function<void(unsigned slot)> eject);
    // Machine reset: QEMU completes pending removals then; returns their
    // slots (the caller removes the devices) and clears the events.
    std::vector<unsigned> reset();

    PciHotplugState state() const;

private:
    static constexpr unsigned SLOTS = 32;
    void eject_locked(uint32_t slots, std::vector<unsigned>& ejected);

    std::function<void()> raise_gpe_;
    std::function<void(unsigned)> eject_;
    mutable std::mutex lock_;
    PciHotplugState s_;
    uint32_t removable_ = ~0u;
};

} // namespace kestrel
