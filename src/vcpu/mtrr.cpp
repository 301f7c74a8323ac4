#include "vcpu/mtrr.h"

namespace kestrel {
namespace {

constexpr uint64_t FOUR_GIB = 1ull << 32;
constexpr uint8_t UC = 0, WP = 5, WB = 6;
constexpr uint64_t DEF_TYPE_ENABLE = 1 << 11, DEF_TYPE_FIXED_ENABLE = 1 << 10;
constexpr uint64_t PHYS_MASK_VALID = 1 << 11;
constexpr uint32_t FIX64K_00000 = 0x250, FIX16K_80000 = 0x258, FIX16K_A0000 = 0x259,
                   FIX4K_C0000 = 0x268;
constexpr uint32_t PHYS_BASE0 = 0x200;

uint64_t all_bytes(uint8_t type) { return 0x0101010101010101ull * type; }

// Largest power of two that divides `addr` (addr != 0).
uint64_t alignment_of(uint64_t addr) { return addr & (~addr + 1); }

} // namespace

std::vector<MsrValue> pc_mtrr_msrs(uint64_t ram_below_4g, unsigned phys_bits) {
    std::vector<MsrValue> msrs;
    msrs.push_back({FIX64K_00000, all_bytes(WB)});  // 0x00000-0x7ffff
    msrs.push_back({FIX16K_80000, all_bytes(WB)});  // 0x80000-0x9ffff
    msrs.push_back({FIX16K_A0000, all_bytes(UC)});  // 0xa0000-0xbffff
    for (uint32_t i = 0; i < 8; i++) msrs.push_back({FIX4K_C0000 + i, all_bytes(WP)});

    if (phys_bits < 32 || phys_bits > 52) phys_bits = 36;
    const uint64_t phys_mask = (1ull << phys_bits) - 1;
    // Cover the hole from its top down: each block as large as the
    // alignment of its end and the room left allow, so none reaches RAM.
    uint64_t bottom = ram_below_4g < FOUR_GIB ? (ram_below_4g + 0xfff) & ~0xfffull : FOUR_GIB;
    uint64_t end = FOUR_GIB;
    unsigned used = 0;
    while (end > bottom && used < MTRR_VARIABLE_COUNT) {
        uint64_t size = alignment_of(end);
        while (size > end - bottom) size >>= 1;
        const uint64_t base = end - size;
        msrs.push_back({PHYS_BASE0 + 2 * used, base | UC});
        msrs.push_back({PHYS_BASE0 + 2 * used + 1, (~(size - 1) & phys_mask) | PHYS_MASK_VALID});
        end = base;
        used++;
    }
    for (; used < MTRR_VARIABLE_COUNT; used++) {
        msrs.push_back({PHYS_BASE0 + 2 * used, 0});
        msrs.push_back({PHYS_BASE0 + 2 * used + 1, 0});
    }
    msrs.push_back({MSR_MTRR_DEF_TYPE, DEF_TYPE_ENABLE | DEF_TYPE_FIXED_ENABLE | WB});
    return msrs;
}

} // namespace kestrel
