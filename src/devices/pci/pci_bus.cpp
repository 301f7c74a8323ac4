#include "devices/pci/pci_bus.h"

#include <mutex>

namespace kestrel {

namespace {
unsigned devfn(unsigned slot, unsigned function) { return slot * pci::FUNCTIONS_PER_SLOT + function; }
} // namespace

PciBus::PciBus(Bus& pio, Bus& mmio) : pio_(pio), mmio_(mmio) {}

bool PciBus::add_device(unsigned slot, unsigned function, std::shared_ptr<PciDevice> device) {
    if (!device || slot >= pci::SLOTS_PER_BUS || function >= pci::FUNCTIONS_PER_SLOT) return false;
    {
        std::unique_lock guard(lock_);
        auto& entry = functions_[devfn(slot, function)];
        if (entry) return false;
        entry = device;
    }
    // Attached outside the table lock: attaching may drive INTx, which
    // comes back through route_intx.
    PciAttachment attachment{&pio_, &mmio_, slot, function,
                             [this, slot, function](uint8_t pin, bool level) {
                                 route_intx(slot, function, pin, level);
                             }};
    device->attach(std::move(attachment));
    return true;
}

std::shared_ptr<PciDevice> PciBus::remove_device(unsigned slot, unsigned function) {
    if (slot >= pci::SLOTS_PER_BUS || function >= pci::FUNCTIONS_PER_SLOT) return nullptr;
    std::shared_ptr<PciDevice> device;
    {
        std::unique_lock guard(lock_);
        device = std::move(functions_[devfn(slot, function)]);
        functions_[devfn(slot, function)] = nullptr;
    }
    // Outside the table lock: INTx going low comes back through route_intx.
    if (device) device->detach();
    return device;
}

std::optional<unsigned> PciBus::next_free_slot() const {
    std::shared_lock guard(lock_);
    for (unsigned slot = 0; slot < pci::SLOTS_PER_BUS; ++slot) {
        bool used = false;
        for (unsigned fn = 0; fn < pci::FUNCTIONS_PER_SLOT; ++fn) used |= bool(functions_[devfn(slot, fn)]);
        if (!used) return slot;
    }
    return std::nullopt;
}

std::shared_ptr<PciDevice> PciBus::device(unsigned slot, unsigned function) const {
    if (slot >= pci::SLOTS_PER_BUS || function >= pci::FUNCTIONS_PER_SLOT) return nullptr;
    std::shared_lock guard(lock_);
    return functions_[devfn(slot, function)];
}

void PciBus::set_intx_router(std::shared_ptr<IntxRouter> router) {
    std::unique_lock guard(lock_);
    router_ = std::move(router);
}

void PciBus::route_intx(unsigned slot, unsigned function, uint8_t pin, bool level) {
    std::shared_ptr<IntxRouter> router;
    {
        std::shared_lock guard(lock_);
        router = router_;
    }
    if (router) router->set_intx(slot, function, pin, level);
}

uint32_t PciBus::config_read(unsigned slot, unsigned function, uint16_t offset, unsigned len) const {
    auto dev = device(slot, function);
    if (!dev) return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
    return dev->config_read(offset, len);
}

void PciBus::config_write(unsigned slot, unsigned function, uint16_t offset, unsigned len,
                          uint32_t value) {
    auto dev = device(slot, function);
    if (!dev) return;
    dev->config_write(offset, len, value);
    // A BAR that could not be placed because another one sat there may fit
    // now that this write moved something.
    for (auto& other : all_devices()) other->retry_pending_bars();
}

std::vector<std::shared_ptr<PciDevice>> PciBus::all_devices() const {
    std::shared_lock guard(lock_);
    std::vector<std::shared_ptr<PciDevice>> out;
    for (auto& dev : functions_) {
        if (dev) out.push_back(dev);
    }
    return out;
}

void PciBus::reset() {
    for (auto& dev : all_devices()) dev->reset();
    for (auto& dev : all_devices()) dev->retry_pending_bars();
}

} // namespace kestrel
