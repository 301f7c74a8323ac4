#include "config/pci_slots.h"

#include "config/parser.h"
#include "devices/pc_layout.h"

namespace kestrel {

namespace {

constexpr unsigned kSlots = 32;

std::string occupant_name(std::string_view type, const std::string& id) {
    return std::string(type) + ",id=" + (id.empty() ? "(null)" : id);
}

} // namespace

PciSlots::PciSlots() {
    for (const pc::ReservedPciFunction& r : pc::kReservedPciFunctions) taken_.push_back({r.devfn, occupant_name(r.type, "")});
}

void PciSlots::reserve(int64_t devfn, std::string name, const std::string& id) {
    taken_.push_back({devfn, occupant_name(name, id)});
}

const PciSlots::Occupant* PciSlots::find(int64_t devfn) const {
    for (const Occupant& o : taken_)
        if (o.devfn == devfn) return &o;
    return nullptr;
}

void PciSlots::place(DeviceConfig& dev) {
    std::string driver(dev.driver());
    if (dev.props.sint("addr") < 0) {
        for (unsigned slot = 0; slot < kSlots && dev.props.sint("addr") < 0; ++slot)
            if (!find(pci_devfn(slot, 0))) dev.props.set_value("addr", pci_devfn(slot, 0));
        if (dev.props.sint("addr") < 0)
            throw ConfigError("PCI: no slot/function available for " + driver + ", all in use or reserved");
    }
    if (const Occupant* o = find(dev.props.sint("addr")))
        throw ConfigError("PCI: slot " + std::to_string(dev.pci_slot()) + " function " +
                          std::to_string(dev.pci_function()) + " not available for " + driver + ", in use by " +
                          o->name);
    taken_.push_back({dev.props.sint("addr"), occupant_name(driver, dev.id)});
}

} // namespace kestrel
