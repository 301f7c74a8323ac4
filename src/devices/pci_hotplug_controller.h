#pragma once
// What the machine's PCI hotplug (device_add/device_del on pci.0) asks of
// the chipset's hotplug controller (the PIIX4 PM function's ACPI hotplug
// registers): tell the guest a slot was filled, ask it to eject a slot,
// and hear when it did. Main loop thread only.
#include <cstdint>
#include <functional>

namespace kestrel {

class PciHotplugController {
public:
    virtual ~PciHotplugController() = default;
    // Slots holding a device the guest must not eject (the chipset's).
    virtual void set_removable(uint32_t slots) = 0;
    virtual void device_plugged(unsigned slot) = 0;
    virtual void request_unplug(unsigned slot) = 0;
    virtual bool unplug_requested(unsigned slot) const = 0;
    // Runs on the main loop for each slot the guest ejected (or whose
    // removal was pending at a machine reset).
    virtual void on_eject(std::function<void(unsigned slot)> handler) = 0;
};

} // namespace kestrel
