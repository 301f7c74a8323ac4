#include "machine/boot/e820.h"
#include "kvm/pc_memory_map.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using pc::GiB;
using pc::MiB;

namespace {

constexpr auto RAM = E820Type::Ram;
constexpr auto RES = E820Type::Reserved;

std::vector<E820Entry> e820_for(uint64_t ram) {
    MemoryConfig mc;
    mc.size = ram;
    return build_e820(GuestMemory::create_pc(mc));
}

std::vector<E820Entry> expected(uint64_t below, uint64_t above) {
    std::vector<E820Entry> m = {
        {0, 0x9fc00, RAM},
        {0x9fc00, 0x400, RES},
        {0xe0000, 0x20000, RES},
        {0x100000, below - 0x100000, RAM},
        {0xfffbc000, 0x4000, RES},  // KVM identity map + TSS
    };
    if (above) m.push_back({4 * GiB, above, RAM});
    return m;
}

} // namespace

TEST_CASE("e820 for -m 128M and 512M: all RAM below 4 GiB") {
    CHECK(e820_for(128 * MiB) == expected(128 * MiB, 0));
    CHECK(e820_for(512 * MiB) == expected(512 * MiB, 0));
}

TEST_CASE("e820 for -m 3G: still no split") {
    CHECK(e820_for(3 * GiB) == expected(3 * GiB, 0));
}

TEST_CASE("e820 for -m 3.5G and 8G: RAM below 4 GiB ends at 3 GiB") {
    CHECK(e820_for(3 * GiB + 512 * MiB) == expected(3 * GiB, 512 * MiB));
    CHECK(e820_for(8 * GiB) == expected(3 * GiB, 5 * GiB));
}

TEST_CASE("e820 entries are sorted, disjoint and keep the BIOS area out of RAM") {
    for (uint64_t ram : {128 * MiB, 3 * GiB + 512 * MiB}) {
        auto map = e820_for(ram);
        uint64_t usable = 0;
        for (size_t i = 0; i < map.size(); i++) {
            if (i) CHECK(map[i - 1].addr + map[i - 1].size <= map[i].addr);
            if (map[i].type == RAM) {
                usable += map[i].size;
                bool overlaps_bios = map[i].addr < pc::BIOS_AREA_END &&
                                     map[i].addr + map[i].size > pc::EBDA_START;
                CHECK_FALSE(overlaps_bios);
            }
        }
        CHECK(usable == ram - (pc::KERNEL_LOAD_ADDR - pc::EBDA_START));
    }
}

TEST_CASE("flat test memory covering the KVM pages gets no reserved entry there") {
    auto map = build_e820(GuestMemory::create_flat(4 * GiB + 64 * MiB));
    REQUIRE(map.size() == 4);
    CHECK(map.back() == E820Entry{0x100000, 4 * GiB + 63 * MiB, RAM});
}
