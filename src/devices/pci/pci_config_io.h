#pragma once
// Configuration mechanism #1 of the host bridge: the address register at
// 0xCF8 (32-bit accesses only) and the data window at 0xCFC-0xCFF, as
// offsets 0 and DATA of this device. (PIIX3's reset control register at
// 0xCF9 is mapped over it by the PIIX3.)
#include "devices/bus_device.h"
#include "devices/pci/pci_bus.h"

#include <atomic>
#include <memory>

namespace kestrel {

class PciConfigIo : public BusDevice {
public:
    static constexpr uint16_t BASE = 0xcf8;
    static constexpr uint16_t LEN = 8;
    static constexpr uint16_t DATA = 4;
    static constexpr uint32_t ENABLE = 1u << 31;

    explicit PciConfigIo(PciBus& bus) : bus_(bus) {}

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

    uint32_t address() const { return address_.load(); }

private:
    struct Target {
        unsigned slot;
        unsigned function;
        uint16_t reg;
        unsigned len;
    };
    // The function and register a data-window access at `offset` goes to,
    // if the address register enables one on bus 0.
    std::optional<Target> target(uint64_t offset, size_t len) const;
    void log_odd_access(uint64_t offset, size_t len);

    PciBus& bus_;
    std::atomic<uint32_t> address_{0};
    std::atomic<bool> logged_odd_{false};
};

} // namespace kestrel
