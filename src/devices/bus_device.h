#pragma once
// The one interface every port-I/O and MMIO device implements. Offsets are
// relative to the base the device was mapped at; a device never sees
// absolute addresses. Accesses are 1, 2, 4 or 8 bytes, little-endian.
#include <cstdint>
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
