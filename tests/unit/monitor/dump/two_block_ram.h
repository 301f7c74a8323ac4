#pragma once
// The dump tests' guest RAM: `low` at 0 and `high` at 4 GiB, as a pc's
// RAM below and above the PCI hole.
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace kestrel::test {

struct TwoBlockRam {
    static constexpr uint64_t kHigh = 1ull << 32;
    std::vector<uint8_t> low, high;

    bool read(uint64_t a, std::span<uint8_t> out) const {
        const std::vector<uint8_t>& m = a >= kHigh ? high : low;
        uint64_t at = a >= kHigh ? a - kHigh : a;
        if (at + out.size() > m.size()) return false;
        std::memcpy(out.data(), m.data() + at, out.size());
        return true;
    }
};

} // namespace kestrel::test
