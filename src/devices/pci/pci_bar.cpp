#include "devices/pci/pci_bar.h"

#include "devices/pci/pci_regs.h"

#include <spdlog/spdlog.h>

namespace kestrel {

uint32_t bar_flag_bits(const BarSpec& spec) {
    switch (spec.kind) {
    case BarKind::Io: return pci::BAR_SPACE_IO;
    case BarKind::Mem32: return spec.prefetchable ? pci::BAR_MEM_PREFETCH : 0;
    case BarKind::Mem64:
        return pci::BAR_MEM_TYPE_64 | (spec.prefetchable ? pci::BAR_MEM_PREFETCH : 0);
    }
    return 0;
}

uint64_t bar_address_mask(const BarSpec& spec) {
    uint64_t mask = ~(spec.size - 1);
    switch (spec.kind) {
    case BarKind::Io: return mask & 0xfffffffcu;
    case BarKind::Mem32: return mask & 0xfffffff0u;
    case BarKind::Mem64: return mask & ~uint64_t(0xf);
    }
    return 0;
}

std::optional<uint64_t> bar_decoded_address(const BarSpec& spec, uint64_t raw, uint16_t command) {
    bool io = spec.kind == BarKind::Io;
    if (!(command & (io ? pci::COMMAND_IO : pci::COMMAND_MEMORY))) return std::nullopt;
    uint64_t base = raw & bar_address_mask(spec);
    uint64_t last = base + spec.size - 1;
    if (base == 0 || last < base) return std::nullopt;
    // An I/O BAR beyond the 64 KiB port space, or a 32-bit BAR whose range
    // touches the top of 4 GiB (the value left by sizing), decodes nothing.
    if (io && last > 0xffff) return std::nullopt;
    if (spec.kind == BarKind::Mem32 && last >= 0xffffffffu) return std::nullopt;
    return base;
}

bool BarMapping::move_to(std::optional<uint64_t> target, Bus* bus) {
    desired_ = target;
    if (target == mapped_at_) return false;
    auto old = mapped_at_;
    if (mapped_at_ && bus && spec_.handler) bus->remove(*mapped_at_);
    mapped_at_.reset();
    if (target) {
        if (!spec_.handler || (bus && bus->insert(*target, spec_.size, spec_.handler, spec_.name))) {
            mapped_at_ = target;
        } else if (bus) {
            spdlog::debug("pci: BAR at {:#x} (size {:#x}) overlaps a mapping on {}; left unmapped",
                          *target, spec_.size, bus->name());
        }
    }
    return old != mapped_at_;
}

} // namespace kestrel
