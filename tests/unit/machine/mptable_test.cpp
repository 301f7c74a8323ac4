#include "machine/mptable/mptable.h"
#include "machine/boot/e820.h"
#include "kvm/pc_memory_map.h"
#include "vcpu/topology.h"
#include "tests/unit/machine/acpi_fixture.h"

#include <optional>

using namespace kestrel;
using namespace kestrel::test;

namespace {

constexpr uint64_t PAGE = 0x1000;

GuestMemory pc_memory(uint64_t mib) {
    MemoryConfig mc;
    mc.size = mib << 20;
    return GuestMemory::create_pc(mc);
}

bool valid_floating_pointer(const std::vector<uint8_t>& f) {
    return std::string(f.begin(), f.begin() + 4) == "_MP_" && f[8] == 1 && (f[9] == 1 || f[9] == 4) &&
           byte_sum(f, 16) == 0;
}

// Linux 6.1's default_find_smp_config(): smp_scan_config() over [0, 1K),
// [639K, 640K) and the F segment, 16 bytes a step, each step
// early_memremap()ing everything left of the range (one TLB flush per page
// on map and on unmap). Returns where it found the pointer and the flushes.
struct Scan {
    std::optional<uint64_t> found;
    uint64_t flushes = 0;
};
Scan linux_mp_scan(const GuestMemory& mem) {
    Scan s;
    const std::pair<uint64_t, uint64_t> ranges[] = {{0, 0x400}, {639 * 0x400, 0x400}, {0xf0000, 0x10000}};
    for (auto [base, length] : ranges) {
        for (; length > 0; base += 16, length -= 16) {
            const uint64_t first = base & ~(PAGE - 1), end = (base + length + PAGE - 1) & ~(PAGE - 1);
            s.flushes += 2 * (end - first) / PAGE;
            if (valid_floating_pointer(read_bytes(mem, base, 16))) {
                s.found = base;
                return s;
            }
        }
    }
    return s;
}

struct Entry {
    uint8_t type;
    std::vector<uint8_t> bytes;
};

std::vector<Entry> config_entries(const GuestMemory& mem, uint64_t at) {
    auto header = read_bytes(mem, at, 44);
    REQUIRE(signature(header) == "PCMP");
    auto table = read_bytes(mem, at, get<uint16_t>(header, 4));
    REQUIRE(byte_sum(table, table.size()) == 0);
    CHECK(table[6] == 4);
    CHECK(std::string(table.begin() + 8, table.begin() + 16) == "BOCHSCPU");
    CHECK(get<uint32_t>(table, 36) == pc::LAPIC_ADDR);
    std::vector<Entry> entries;
    for (size_t off = 44; off < table.size();) {
        const size_t len = table[off] == 0 ? 20 : 8;
        REQUIRE(table[off] <= 4);
        REQUIRE(off + len <= table.size());
        entries.push_back({table[off], {table.begin() + off, table.begin() + off + len}});
        off += len;
    }
    CHECK(entries.size() == get<uint16_t>(table, 34));
    return entries;
}

uint64_t install(const GuestMemory& mem, const SmpConfig& smp) {
    return install_mp_table(mem, {smp, 0x000806f8, 0x078bfbff}, pc::SMBIOS_AREA_START + 0x400);
}

} // namespace

TEST_CASE("MP table: Linux's scan finds the floating pointer at 639K after two 1 KiB steps", "[mptable]") {
    GuestMemory mem = pc_memory(128);
    const Scan none = linux_mp_scan(mem);
    CHECK_FALSE(none.found);
    CHECK(none.flushes > 69000);  // the whole F segment: what a directly booted guest paid

    install(mem, SmpConfig{});
    const Scan s = linux_mp_scan(mem);
    REQUIRE(s.found == mptable::FLOATING_ADDR);
    CHECK(s.flushes <= 2 * (64 + 1));
    // The range is reserved, so the kernel never hands it out as RAM.
    bool reserved = false;
    for (const E820Entry& e : build_e820(mem))
        if (e.addr <= mptable::FLOATING_ADDR && e.addr + e.size >= mptable::LOW_AREA_END)
            reserved = e.type == E820Type::Reserved;
    CHECK(reserved);
}

TEST_CASE("MP table: processors as the MADT, the IOAPIC and ISA routing with IRQ 0 on pin 2", "[mptable]") {
    GuestMemory mem = pc_memory(128);
    SmpConfig smp;
    smp.cpus = 3, smp.maxcpus = 8, smp.sockets = 2, smp.cores = 2, smp.threads = 2;
    const uint64_t at = install(mem, smp);
    CHECK(at == mptable::FLOATING_ADDR + 16);
    CHECK(get<uint32_t>(read_bytes(mem, mptable::FLOATING_ADDR, 16), 4) == at);

    std::vector<Entry> e = config_entries(mem, at);
    unsigned cpu = 0;
    std::vector<std::pair<uint8_t, uint8_t>> isa;  // (ISA IRQ, IOAPIC pin)
    unsigned buses = 0, ioapics = 0, lints = 0;
    for (const Entry& x : e) {
        const auto& b = x.bytes;
        switch (x.type) {
        case 0:
            CHECK(b[1] == apic_id_for(cpu, smp));
            CHECK(b[3] == ((cpu < 3 ? 1 : 0) | (cpu == 0 ? 2 : 0)));
            CHECK(get<uint32_t>(b, 4) == 0x000806f8);
            ++cpu;
            break;
        case 1: ++buses; break;
        case 2:
            CHECK(b[1] == mptable::IOAPIC_ID);
            CHECK(b[3] == 1);
            CHECK(get<uint32_t>(b, 4) == pc::IOAPIC_ADDR);
            ++ioapics;
            break;
        case 3:
            CHECK(b[4] == mptable::ISA_BUS_ID);
            isa.emplace_back(b[5], b[7]);
            break;
        case 4: ++lints; break;
        }
    }
    CHECK(cpu == 8);
    CHECK(buses == 2);
    CHECK(ioapics == 1);
    CHECK(lints == 2);
    const std::vector<std::pair<uint8_t, uint8_t>> want = {{0, 2},   {1, 1},   {3, 3},   {4, 4},   {6, 6},
                                                           {7, 7},   {8, 8},   {12, 12}, {13, 13}, {14, 14},
                                                           {15, 15}};
    CHECK(isa == want);
}

TEST_CASE("MP table: -device CPUs' slots are enabled", "[mptable]") {
    GuestMemory mem = pc_memory(128);
    SmpConfig smp;
    smp.cpus = 1, smp.maxcpus = 4, smp.sockets = 4;
    smp.plugged.push_back({2, "vcpu2", 0});
    const uint64_t at = install(mem, smp);
    std::vector<uint8_t> flags;
    for (const Entry& x : config_entries(mem, at))
        if (x.type == 0) flags.push_back(x.bytes[3]);
    CHECK(flags == std::vector<uint8_t>{3, 0, 1, 0});  // BSP+enabled, -, enabled, -
}

TEST_CASE("MP table: a table too big for 639K goes to the top of the F segment", "[mptable]") {
    GuestMemory mem = pc_memory(128);
    SmpConfig smp;
    smp.cpus = smp.maxcpus = smp.sockets = 64;
    const uint64_t at = install(mem, smp);
    CHECK(at >= pc::SMBIOS_AREA_START + 0x400);
    CHECK(at + 44 + 64 * 20 <= pc::BIOS_AREA_END);
    CHECK(linux_mp_scan(mem).found == mptable::FLOATING_ADDR);
    CHECK(config_entries(mem, at).size() == 64 + 2 + 1 + 11 + 2);
    CHECK_THROWS_WITH(install_mp_table(mem, {smp, 0, 0}, pc::BIOS_AREA_END - 0x100),
                      Catch::Contains("does not fit in the F segment"));
}
