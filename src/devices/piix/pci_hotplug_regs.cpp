#include "devices/piix/pci_hotplug_regs.h"

#include <bit>
#include <cstring>

namespace kestrel {

PciHotplugRegs::PciHotplugRegs(std::function<void()> raise_gpe, std::function<void(unsigned)> eject)
    : raise_gpe_(std::move(raise_gpe)), eject_(std::move(eject)) {
    s_.hotplug_enable = removable_;
}

void PciHotplugRegs::read(uint64_t offset, std::span<uint8_t> data) {
    uint32_t value = ~0u;
    if (data.size() == 4 && offset % 4 == 0 && offset < LENGTH) {
        std::lock_guard guard(lock_);
        const bool bus0 = s_.bus_select == 0;  // no bridges: every other bus reads 0
        switch (offset) {
        case PCIU:
            value = bus0 ? s_.up : 0;
            if (bus0) s_.up = 0;  // QEMU (not legacy PIIX): reading acknowledges
            break;
        case PCID: value = bus0 ? s_.down : 0; break;
        case PCRMV: value = bus0 ? s_.hotplug_enable : 0; break;
        case BNUM: value = s_.bus_select; break;
        default: value = 0; break;  // PCEJ reads 0; PIDX: no device has an ACPI index
        }
    }
    std::memset(data.data(), 0xff, data.size());
    std::memcpy(data.data(), &value, std::min<size_t>(data.size(), 4));
}

void PciHotplugRegs::write(uint64_t offset, std::span<const uint8_t> data) {
    if (data.size() != 4 || offset % 4 != 0 || offset >= LENGTH) return;
    uint32_t value;
    std::memcpy(&value, data.data(), 4);
    std::vector<unsigned> ejected;
    {
        std::lock_guard guard(lock_);
        if (offset == BNUM) s_.bus_select = value;
        if (offset == PCEJ && s_.bus_select == 0) eject_locked(value, ejected);
        // PCIU, PCID, PCRMV are read-only; a PIDX write selects a slot
        // whose (absent) ACPI index then reads 0.
    }
    std::function<void(unsigned)> eject;
    {
        std::lock_guard guard(lock_);
        eject = eject_;
    }
    for (unsigned slot : ejected)
        if (eject) eject(slot);
}

// QEMU's acpi_pcihp_eject_slot: only the lowest slot of the bitmap.
void PciHotplugRegs::eject_locked(uint32_t slots, std::vector<unsigned>& ejected) {
    if (slots == 0) return;
    unsigned slot = unsigned(std::countr_zero(slots));
    uint32_t bit = 1u << slot;
    s_.down &= ~bit;
    s_.up &= ~bit;
    if (removable_ & bit) ejected.push_back(slot);
}

void PciHotplugRegs::set_removable(uint32_t slots) {
    std::lock_guard guard(lock_);
    removable_ = slots;
    s_.hotplug_enable = slots;
}

void PciHotplugRegs::plugged(unsigned slot) {
    if (slot >= SLOTS) return;
    {
        std::lock_guard guard(lock_);
        s_.up |= 1u << slot;
    }
    if (raise_gpe_) raise_gpe_();
}

void PciHotplugRegs::request_unplug(unsigned slot) {
    if (slot >= SLOTS) return;
    {
        std::lock_guard guard(lock_);
        s_.down |= 1u << slot;
    }
    if (raise_gpe_) raise_gpe_();
}

void PciHotplugRegs::on_eject(std::function<void(unsigned)> eject) {
    std::lock_guard guard(lock_);
    eject_ = std::move(eject);
}

bool PciHotplugRegs::unplug_requested(unsigned slot) const {
    std::lock_guard guard(lock_);
    return slot < SLOTS && (s_.down >> slot & 1);
}

std::vector<unsigned> PciHotplugRegs::reset() {
    std::vector<unsigned> ejected;
    std::lock_guard guard(lock_);
    while (s_.down) eject_locked(s_.down, ejected);
    s_.up = 0;
    s_.bus_select = 0;
    s_.hotplug_enable = removable_;
    return ejected;
}

PciHotplugState PciHotplugRegs::state() const {
    std::lock_guard guard(lock_);
    return s_;
}

} // namespace kestrel
