#pragma once
// The one interface every port-I/O and MMIO device implements. Offsets are
// relative to the base the device was mapped at; a device never sees
// absolute addresses. Accesses are 1, 2, 4 or 8 bytes, little-endian.
#include <cstdint>
#include <memory>
#include <span>

namespace kestrel {

class BusDevice {
public:
    virtual ~BusDevice() = default;
    virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
    virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

// Little-endian helpers for handlers that work on integers.
inline uint64_t load_le(std::span<const uint8_t> data) {
    uint64_t v = 0;
    for (size_t i = 0; i < data.size() && i < 8; ++i) v |= uint64_t(data[i]) << (8 * i);
    return v;
}
inline void store_le(std::span<uint8_t> data, uint64_t v) {
    for (size_t i = 0; i < data.size(); ++i) data[i] = i < 8 ? uint8_t(v >> (8 * i)) : 0;
}

} // namespace kestrel

namespace kestrel {

// A device's registers seen from another base: accesses at offset o reach
// `target` at o + `shift`. For devices the board maps as separate ranges
// (the i8042's 0x60 and 0x64, the PCI host's 0xCF8 and 0xCFC).
class BusWindow final : public BusDevice {
public:
    BusWindow(std::shared_ptr<BusDevice> target, uint64_t shift) : target_(std::move(target)), shift_(shift) {}
    void read(uint64_t offset, std::span<uint8_t> data) override { target_->read(offset + shift_, data); }
    void write(uint64_t offset, std::span<const uint8_t> data) override { target_->write(offset + shift_, data); }

private:
    std::shared_ptr<BusDevice> target_;
    uint64_t shift_;
};

} // namespace kestrel
