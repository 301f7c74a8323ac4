#include "config/pci_slots.h"

#include "config/parser.h"

namespace kestrel {

namespace {

constexpr unsigned kSlots = 32;

} // namespace

PciSlots::PciSlots()
    : taken_{{0, 0, "i440FX,id=(null)"}, {1, 0, "PIIX3,id=(null)"},
             {1, 1, "piix3-ide,id=(null)"}, {1, 3, "PIIX4_PM,id=(null)"}} {}

const PciSlots::Occupant* PciSlots::find(unsigned slot, unsigned function) const {
    for (const Occupant& o : taken_)
        if (o.slot == slot && o.function == function) return &o;
    return nullptr;
}

void PciSlots::place(DeviceConfig& dev) {
    if (!dev.slot) {
        for (unsigned slot = 0; slot < kSlots && !dev.slot; ++slot) {
            if (!find(slot, 0)) {
                dev.slot = slot;
                dev.function = 0;
            }
        }
        if (!dev.slot)
            throw ConfigError("PCI: no slot/function available for " + dev.driver +
                              ", all in use or reserved");
    }
    if (const Occupant* o = find(*dev.slot, dev.function))
        throw ConfigError("PCI: slot " + std::to_string(*dev.slot) + " function " +
                          std::to_string(dev.function) + " not available for " + dev.driver +
                          ", in use by " + o->name);
    taken_.push_back({*dev.slot, dev.function, dev.driver + ",id=" + (dev.id.empty() ? "(null)" : dev.id)});
}

} // namespace kestrel
