#include "devices/pci/pci_config_io.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace kestrel {

namespace {
// Bits the address register keeps: enable, bus, device, function, dword
// register. Reserved bits 30:24 and 1:0 read as zero.
constexpr uint32_t ADDRESS_MASK = 0x80fffffcu;
} // namespace

std::optional<PciConfigIo::Target> PciConfigIo::target(uint64_t offset, size_t len) const {
    uint32_t address = address_.load();
    if (!(address & ENABLE)) return std::nullopt;
    if (((address >> 16) & 0xff) != 0) return std::nullopt;  // only bus 0 exists
    unsigned byte = unsigned(offset - DATA);
    // An access running past 0xCFF only reaches the bytes inside the window.
    unsigned n = unsigned(std::min<size_t>(len, 4 - byte));
    return Target{(address >> 11) & 0x1f, (address >> 8) & 0x7, uint16_t((address & 0xfc) + byte), n};
}

void PciConfigIo::read(uint64_t offset, std::span<uint8_t> data) {
    std::fill(data.begin(), data.end(), 0xff);
    if (offset >= LEN) return;
    if (offset >= DATA) {
        auto t = target(offset, data.size());
        if (!t) return;
        store_le(data.first(t->len), bus_.config_read(t->slot, t->function, t->reg, t->len));
    } else if (offset == 0 && data.size() == 4) {
        store_le(data, address_.load());
    } else {
        log_odd_access(offset, data.size());
    }
}

void PciConfigIo::write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset >= LEN) return;
    if (offset >= DATA) {
        auto t = target(offset, data.size());
        if (!t) return;
        bus_.config_write(t->slot, t->function, t->reg, t->len, uint32_t(load_le(data.first(t->len))));
    } else if (offset == 0 && data.size() == 4) {
        address_.store(uint32_t(load_le(data)) & ADDRESS_MASK);
    } else {
        log_odd_access(offset, data.size());
    }
}

void PciConfigIo::log_odd_access(uint64_t offset, size_t len) {
    if (!logged_odd_.exchange(true))
        spdlog::debug("pci: ignoring {}-byte access to port {:#x}", len, BASE + offset);
}

} // namespace kestrel
