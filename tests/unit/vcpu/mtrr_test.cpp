#include "vcpu/mtrr.h"

#include <catch2/catch.hpp>
#include <map>

using namespace kestrel;

namespace {

std::map<uint32_t, uint64_t> as_map(const std::vector<MsrValue>& msrs) {
    std::map<uint32_t, uint64_t> m;
    for (const MsrValue& v : msrs) {
        REQUIRE(m.count(v.index) == 0);  // each MSR once
        m[v.index] = v.value;
    }
    return m;
}

// The memory type the variable MTRRs give `addr`, or -1 if none matches.
int variable_type(const std::map<uint32_t, uint64_t>& m, uint64_t addr, uint64_t phys_mask) {
    int type = -1;
    for (unsigned i = 0; i < MTRR_VARIABLE_COUNT; i++) {
        uint64_t base = m.at(0x200 + 2 * i), mask = m.at(0x201 + 2 * i);
        if (!(mask & (1 << 11))) continue;
        uint64_t range_mask = mask & phys_mask & ~0xfffull;
        if ((addr & range_mask) == (base & range_mask & ~0xfffull)) {
            CHECK((type == -1 || type == int(base & 0xff)));
            type = int(base & 0xff);
        }
    }
    return type;
}

} // namespace

TEST_CASE("MTRRs: enabled, write-back by default, fixed ranges as SeaBIOS sets them") {
    auto m = as_map(pc_mtrr_msrs(512ull << 20, 40));
    CHECK(m.at(MSR_MTRR_DEF_TYPE) == 0xc06);
    CHECK(m.at(0x250) == 0x0606060606060606ull);
    CHECK(m.at(0x258) == 0x0606060606060606ull);
    CHECK(m.at(0x259) == 0);  // VGA window uncached
    for (uint32_t i = 0x268; i <= 0x26f; i++) CHECK(m.at(i) == 0x0505050505050505ull);
}

TEST_CASE("MTRRs: the whole 32-bit PCI hole is uncached, no RAM below it is") {
    for (uint64_t ram : {512ull << 20, 0x1ffe0000ull, 3ull << 30, 0xbff00000ull, 384ull << 20, 1ull << 32}) {
        CAPTURE(ram);
        const uint64_t phys_mask = (1ull << 40) - 1;
        auto m = as_map(pc_mtrr_msrs(ram, 40));
        for (uint64_t a = 0; a < ram && a < (1ull << 32); a += 1 << 20)
            CHECK(variable_type(m, a, phys_mask) == -1);
        CHECK(variable_type(m, ram - 0x1000, phys_mask) == -1);
        for (uint64_t a = (ram + 0xfffff) & ~0xfffffull; a < (1ull << 32); a += 1 << 20)
            CHECK(variable_type(m, a, phys_mask) == 0);
        CHECK(variable_type(m, (1ull << 32) - 0x1000, phys_mask) == (ram < (1ull << 32) ? 0 : -1));
        CHECK(variable_type(m, 1ull << 32, phys_mask) == -1);  // RAM above 4 GiB: default WB
    }
}

TEST_CASE("MTRRs: a hole needing more than the variable ranges leaves its bottom write-back") {
    const uint64_t ram = 0x1001000;  // 16 MiB + 4 KiB: many power-of-two blocks
    auto m = as_map(pc_mtrr_msrs(ram, 36));
    const uint64_t phys_mask = (1ull << 36) - 1;
    for (unsigned i = 0; i < MTRR_VARIABLE_COUNT; i++) CHECK((m.at(0x201 + 2 * i) & (1 << 11)) != 0);
    CHECK(variable_type(m, ram - 0x1000, phys_mask) == -1);
    CHECK(variable_type(m, 0xfffff000, phys_mask) == 0);
    CHECK(variable_type(m, 0x80000000, phys_mask) == 0);
}

TEST_CASE("MTRRs: masks are limited to the guest's physical address width") {
    auto m = as_map(pc_mtrr_msrs(3ull << 30, 36));
    CHECK(m.at(0x200) == 0xc0000000);
    CHECK(m.at(0x201) == (0xfc0000000ull | 0x800));
    auto bad = as_map(pc_mtrr_msrs(3ull << 30, 0));  // absurd width: 36 bits, as SeaBIOS assumes
    CHECK(bad.at(0x201) == m.at(0x201));
}
