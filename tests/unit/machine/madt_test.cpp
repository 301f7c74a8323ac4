#include "machine/acpi/acpi_tables.h"
#include "machine/acpi/tables.h"
#include "kvm/pc_memory_map.h"
#include "tests/unit/machine/acpi_fixture.h"

using namespace kestrel;
using namespace kestrel::test;

namespace {

struct Cpu {
    uint32_t uid, apic_id;
    bool enabled, x2apic;
    bool operator==(const Cpu&) const = default;
};

struct Madt {
    uint32_t lapic_addr = 0, flags = 0;
    std::vector<Cpu> cpus;
    std::vector<std::vector<uint8_t>> ioapics, overrides, nmis, x2nmis;
};

Madt parse(const std::vector<uint8_t>& t) {
    REQUIRE(signature(t) == "APIC");
    REQUIRE(byte_sum(t, t.size()) == 0);
    Madt m;
    m.lapic_addr = get<uint32_t>(t, 36);
    m.flags = get<uint32_t>(t, 40);
    for (size_t off = 44; off < t.size();) {
        uint8_t type = t[off], len = t[off + 1];
        REQUIRE(len >= 2);
        REQUIRE(off + len <= t.size());
        std::vector<uint8_t> e(t.begin() + off, t.begin() + off + len);
        switch (type) {
        case 0:
            REQUIRE(len == 8);
            m.cpus.push_back({e[2], e[3], bool(get<uint32_t>(e, 4) & 1), false});
            break;
        case 9:
            REQUIRE(len == 16);
            m.cpus.push_back({get<uint32_t>(e, 12), get<uint32_t>(e, 4), bool(get<uint32_t>(e, 8) & 1), true});
            break;
        case 1: REQUIRE(len == 12); m.ioapics.push_back(e); break;
        case 2: REQUIRE(len == 10); m.overrides.push_back(e); break;
        case 4: REQUIRE(len == 6); m.nmis.push_back(e); break;
        case 10: REQUIRE(len == 12); m.x2nmis.push_back(e); break;
        default: FAIL("unexpected MADT entry type " << int(type));
        }
        off += len;
    }
    return m;
}

Madt madt_for(const SmpConfig& smp) { return parse(acpi::build_madt(smp)); }

SmpConfig smp_of(unsigned cpus, unsigned sockets, unsigned cores, unsigned threads, unsigned maxcpus) {
    SmpConfig s;
    s.cpus = cpus;
    s.sockets = sockets;
    s.cores = cores;
    s.threads = threads;
    s.maxcpus = maxcpus;
    return s;
}

std::vector<uint32_t> apic_ids(const Madt& m) {
    std::vector<uint32_t> ids;
    for (const Cpu& c : m.cpus) ids.push_back(c.apic_id);
    return ids;
}

} // namespace

TEST_CASE("MADT fixed part, IOAPIC, overrides and NMI") {
    Madt m = madt_for(smp_of(1, 1, 1, 1, 1));
    CHECK(m.lapic_addr == pc::LAPIC_ADDR);
    CHECK(m.flags == 1);  // PCAT_COMPAT
    REQUIRE(m.cpus.size() == 1);
    CHECK(m.cpus[0] == Cpu{0, 0, true, false});

    REQUIRE(m.ioapics.size() == 1);
    CHECK(m.ioapics[0][2] == 0);  // IOAPIC id
    CHECK(get<uint32_t>(m.ioapics[0], 4) == pc::IOAPIC_ADDR);
    CHECK(get<uint32_t>(m.ioapics[0], 8) == 0);  // GSI base

    REQUIRE(m.overrides.size() == 5);
    // bus, source IRQ, GSI, flags
    CHECK(m.overrides[0][2] == 0);
    CHECK(m.overrides[0][3] == 0);
    CHECK(get<uint32_t>(m.overrides[0], 4) == 2);
    CHECK(get<uint16_t>(m.overrides[0], 8) == 0);
    unsigned irqs[] = {5, 9, 10, 11};
    for (unsigned i = 0; i < 4; i++) {
        CHECK(m.overrides[i + 1][3] == irqs[i]);
        CHECK(get<uint32_t>(m.overrides[i + 1], 4) == irqs[i]);
        CHECK(get<uint16_t>(m.overrides[i + 1], 8) == 0x000d);  // level, active high
    }

    REQUIRE(m.nmis.size() == 1);
    CHECK(m.nmis[0][2] == 0xff);  // all processors
    CHECK(m.nmis[0][5] == 1);     // LINT1
    CHECK(m.x2nmis.empty());
}

TEST_CASE("MADT for -smp 2 and 8") {
    Madt two = madt_for(smp_of(2, 1, 2, 1, 2));
    CHECK(two.cpus == std::vector<Cpu>{{0, 0, true, false}, {1, 1, true, false}});
    Madt eight = madt_for(smp_of(8, 8, 1, 1, 8));
    REQUIRE(eight.cpus.size() == 8);
    for (unsigned i = 0; i < 8; i++) CHECK(eight.cpus[i] == Cpu{i, i, true, false});
}

TEST_CASE("MADT APIC IDs follow the topology") {
    CHECK(apic_ids(madt_for(smp_of(8, 2, 2, 2, 8))) ==
          std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7});
    // Three cores take two bits: socket 1 starts at APIC ID 8.
    CHECK(apic_ids(madt_for(smp_of(12, 2, 3, 2, 12))) ==
          std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13});
}

TEST_CASE("MADT lists possible but absent vCPUs as disabled") {
    Madt m = madt_for(smp_of(2, 1, 4, 1, 4));
    REQUIRE(m.cpus.size() == 4);
    CHECK(m.cpus[1].enabled);
    CHECK_FALSE(m.cpus[2].enabled);
    CHECK_FALSE(m.cpus[3].enabled);
    CHECK(m.cpus[3].apic_id == 3);
}

TEST_CASE("MADT uses x2APIC entries for APIC IDs above 254") {
    Madt m = madt_for(smp_of(400, 2, 200, 1, 400));
    REQUIRE(m.cpus.size() == 400);
    CHECK(m.cpus[199] == Cpu{199, 199, true, false});
    CHECK(m.cpus[200] == Cpu{200, 256, true, true});  // socket 1, 8 core bits
    CHECK(m.cpus[399] == Cpu{399, 455, true, true});
    REQUIRE(m.x2nmis.size() == 1);
    CHECK(get<uint32_t>(m.x2nmis[0], 4) == 0xffffffff);
    CHECK(m.x2nmis[0][8] == 1);  // LINT1
}

TEST_CASE("build_acpi_tables publishes the MADT of the configured vCPUs") {
    auto mem = GuestMemory::create_flat(64 * pc::MiB);
    AcpiConfig cfg;
    cfg.smp = smp_of(3, 1, 4, 1, 4);
    uint64_t rsdp = build_acpi_tables(mem, cfg);
    auto r = read_bytes(mem, rsdp, 36);
    auto xsdt = read_table(mem, get<uint64_t>(r, 24));
    std::vector<uint8_t> madt;
    for (size_t off = 36; off < xsdt.size(); off += 8) {
        auto t = read_table(mem, get<uint64_t>(xsdt, off));
        if (signature(t) == "APIC") madt = t;
    }
    Madt m = parse(madt);
    REQUIRE(m.cpus.size() == 4);
    CHECK(m.cpus[2].enabled);
    CHECK_FALSE(m.cpus[3].enabled);
}

TEST_CASE("MADT enables the slots of -device CPUs, not the ones between") {
    SmpConfig smp = smp_of(1, 4, 1, 1, 4);
    smp.plugged.push_back({3, "", 0});
    smp.plugged.push_back({1, "vcpu1", 0});
    Madt m = madt_for(smp);
    REQUIRE(m.cpus.size() == 4);
    CHECK(m.cpus[0] == Cpu{0, 0, true, false});
    CHECK(m.cpus[1] == Cpu{1, 1, true, false});
    CHECK(m.cpus[2] == Cpu{2, 2, false, false});
    CHECK(m.cpus[3] == Cpu{3, 3, true, false});
}

TEST_CASE("MADT after device_del of a -smp vCPU: its slot disabled, enabled again once plugged back") {
    SmpConfig smp = smp_of(3, 1, 4, 1, 4);
    smp.remove(1);
    CHECK(smp.present_count() == 2);
    CHECK(madt_for(smp).cpus[1] == Cpu{1, 1, false, false});
    CHECK(madt_for(smp).cpus[2] == Cpu{2, 2, true, false});
    smp.plugged.push_back({1, "cpu1", 0});
    CHECK(smp.present_count() == 3);
    CHECK(madt_for(smp).cpus[1] == Cpu{1, 1, true, false});
    smp.remove(1);  // the plugged one goes; -smp's stays gone
    CHECK(smp.plugged.empty());
    CHECK_FALSE(smp.present(1));
    CHECK(smp.present_count() == 2);
}
