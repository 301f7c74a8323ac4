#include "machine/acpi/acpi_tables.h"
#include "machine/acpi/tables.h"
#include "kvm/pc_memory_map.h"
#include "devices/pc_layout.h"
#include "tests/unit/machine/acpi_fixture.h"

#include <algorithm>

using namespace kestrel;
using namespace kestrel::test;
namespace fadt = kestrel::acpi::fadt;

namespace {

struct Built {
    GuestMemory mem;
    uint64_t rsdp;
};

Built build(uint64_t ram, uint32_t serial_ports = 1) {
    MemoryConfig mc;
    mc.size = ram;
    Built b{GuestMemory::create_pc(mc), 0};
    AcpiConfig cfg;
    cfg.smp.cpus = cfg.smp.maxcpus = 2;
    cfg.serial_ports = serial_ports;
    b.rsdp = build_acpi_tables(b.mem, cfg);
    return b;
}

std::vector<uint64_t> xsdt_entries(const GuestMemory& mem, uint64_t rsdp) {
    auto r = read_bytes(mem, rsdp, 36);
    auto xsdt = read_table(mem, get<uint64_t>(r, 24));
    std::vector<uint64_t> out;
    for (size_t off = 36; off < xsdt.size(); off += 8) out.push_back(get<uint64_t>(xsdt, off));
    return out;
}

std::vector<uint8_t> table_by_signature(const GuestMemory& mem, uint64_t rsdp, const std::string& sig) {
    for (uint64_t a : xsdt_entries(mem, rsdp)) {
        auto t = read_table(mem, a);
        if (signature(t) == sig) return t;
    }
    FAIL("no " << sig << " in the XSDT");
    return {};
}

// The value of `Name (<name>, <DWord>)` in AML.
uint32_t aml_dword_name(const std::vector<uint8_t>& aml, const std::string& name) {
    std::string needle = "\x08" + name + "\x0c";
    auto it = std::search(aml.begin(), aml.end(), needle.begin(), needle.end());
    REQUIRE(it != aml.end());
    return get<uint32_t>(aml, size_t(it - aml.begin()) + needle.size());
}

// First element of the \_S5 package (ZeroOp, OneOp or BytePrefix).
unsigned s5_slp_typ(const std::vector<uint8_t>& aml) {
    std::string needle = "_S5_\x12";
    auto it = std::search(aml.begin(), aml.end(), needle.begin(), needle.end());
    REQUIRE(it != aml.end());
    size_t op = size_t(it - aml.begin()) + needle.size() + 2;  // PkgLength, NumElements
    if (aml[op] == 0x0a) return aml[op + 1];
    REQUIRE(aml[op] <= 1);
    return aml[op];
}

} // namespace

TEST_CASE("RSDP is in the legacy search area with both checksums right") {
    auto b = build(512 * pc::MiB);
    CHECK(b.rsdp % 16 == 0);
    CHECK(b.rsdp >= 0xe0000);
    CHECK(b.rsdp + 36 <= 0x100000);
    auto r = read_bytes(b.mem, b.rsdp, 36);
    CHECK(std::string(r.begin(), r.begin() + 8) == "RSD PTR ");
    CHECK(byte_sum(r, 20) == 0);
    CHECK(byte_sum(r, 36) == 0);
    CHECK(r[15] == 2);
    CHECK(get<uint32_t>(r, 20) == 36);

    // A legacy scan (16-byte steps over 0xE0000-0xFFFFF) finds the same one.
    auto area = read_bytes(b.mem, 0xe0000, 0x20000);
    uint64_t found = 0;
    for (size_t off = 0; off + 8 <= area.size() && !found; off += 16)
        if (std::memcmp(area.data() + off, "RSD PTR ", 8) == 0) found = 0xe0000 + off;
    CHECK(found == b.rsdp);
}

TEST_CASE("RSDT and XSDT list the same tables and every table sums to zero") {
    auto b = build(512 * pc::MiB);
    auto r = read_bytes(b.mem, b.rsdp, 36);
    auto rsdt = read_table(b.mem, get<uint32_t>(r, 16));
    CHECK(signature(rsdt) == "RSDT");
    CHECK(byte_sum(rsdt, rsdt.size()) == 0);
    auto xsdt = read_table(b.mem, get<uint64_t>(r, 24));
    CHECK(signature(xsdt) == "XSDT");
    CHECK(byte_sum(xsdt, xsdt.size()) == 0);

    auto entries = xsdt_entries(b.mem, b.rsdp);
    REQUIRE(rsdt.size() - 36 == entries.size() * 4);
    std::vector<std::string> sigs;
    for (size_t i = 0; i < entries.size(); i++) {
        CHECK(get<uint32_t>(rsdt, 36 + 4 * i) == entries[i]);
        auto t = read_table(b.mem, entries[i]);
        CHECK(byte_sum(t, t.size()) == 0);
        CHECK(entries[i] + t.size() <= pc::BIOS_AREA_END);
        sigs.push_back(signature(t));
    }
    CHECK(sigs == std::vector<std::string>{"FACP", "APIC"});

    auto facp = table_by_signature(b.mem, b.rsdp, "FACP");
    auto dsdt = read_table(b.mem, get<uint32_t>(facp, fadt::DSDT));
    CHECK(signature(dsdt) == "DSDT");
    CHECK(byte_sum(dsdt, dsdt.size()) == 0);
    uint64_t facs_addr = get<uint32_t>(facp, fadt::FIRMWARE_CTRL);
    CHECK(facs_addr % 64 == 0);
    auto facs = read_bytes(b.mem, facs_addr, 64);
    CHECK(signature(facs) == "FACS");
    CHECK(get<uint32_t>(facs, 4) == 64);
}

TEST_CASE("FADT describes the PIIX4 PM block, reset register and buttons") {
    auto b = build(512 * pc::MiB);
    auto f = table_by_signature(b.mem, b.rsdp, "FACP");
    CHECK(f.size() == fadt::SIZE);
    CHECK(f[8] == fadt::REVISION);
    CHECK(get<uint16_t>(f, fadt::SCI_INT) == 9);
    CHECK(get<uint32_t>(f, fadt::SMI_CMD) == 0);
    CHECK(get<uint32_t>(f, fadt::PM1A_EVT_BLK) == pc::ACPI_PM_BASE + pc::PM1_EVT_OFFSET);
    CHECK(get<uint32_t>(f, fadt::PM1A_CNT_BLK) == pc::ACPI_PM_BASE + pc::PM1_CNT_OFFSET);
    CHECK(get<uint32_t>(f, fadt::PM_TMR_BLK) == pc::ACPI_PM_BASE + pc::PM_TMR_OFFSET);
    CHECK(get<uint32_t>(f, fadt::GPE0_BLK) == pc::GPE0_BASE);
    CHECK(f[fadt::PM1_EVT_LEN] == 4);
    CHECK(f[fadt::PM1_CNT_LEN] == 2);
    CHECK(f[fadt::PM_TMR_LEN] == 4);
    CHECK(f[fadt::GPE0_BLK_LEN] == 4);
    CHECK(get<uint16_t>(f, fadt::IAPC_BOOT_ARCH) == (fadt::BOOT_LEGACY_DEVICES | fadt::BOOT_8042));

    uint32_t flags = get<uint32_t>(f, fadt::FLAGS);
    CHECK(flags == (fadt::FLAG_WBINVD | fadt::FLAG_PROC_C1 | fadt::FLAG_SLP_BUTTON |
                    fadt::FLAG_RESET_REG_SUP));
    CHECK_FALSE(flags & fadt::FLAG_PWR_BUTTON);  // fixed-feature power button

    // RESET_REG: SystemIO, 8 bits, port 0xCF9; value 6.
    CHECK(f[fadt::RESET_REG] == 1);
    CHECK(f[fadt::RESET_REG + 1] == 8);
    CHECK(get<uint64_t>(f, fadt::RESET_REG + 4) == 0xcf9);
    CHECK(f[fadt::RESET_VALUE] == 6);

    // X_ fields agree with the 32-bit ones.
    CHECK(get<uint64_t>(f, fadt::X_FIRMWARE_CTRL) == get<uint32_t>(f, fadt::FIRMWARE_CTRL));
    CHECK(get<uint64_t>(f, fadt::X_DSDT) == get<uint32_t>(f, fadt::DSDT));
    struct { size_t x, legacy, len; } gas[] = {
        {fadt::X_PM1A_EVT_BLK, fadt::PM1A_EVT_BLK, 4},
        {fadt::X_PM1A_CNT_BLK, fadt::PM1A_CNT_BLK, 2},
        {fadt::X_PM_TMR_BLK, fadt::PM_TMR_BLK, 4},
        {fadt::X_GPE0_BLK, fadt::GPE0_BLK, 4},
    };
    for (auto g : gas) {
        CHECK(f[g.x] == 1);  // SystemIO
        CHECK(f[g.x + 1] == g.len * 8);
        CHECK(get<uint64_t>(f, g.x + 4) == get<uint32_t>(f, g.legacy));
    }
    // No C2/C3.
    CHECK(get<uint16_t>(f, fadt::P_LVL2_LAT) > 100);
    CHECK(get<uint16_t>(f, fadt::P_LVL3_LAT) > 1000);
}

TEST_CASE("DSDT carries the PCI window start, COM presence and S5 type") {
    auto small = build(512 * pc::MiB, 0x1);
    auto facp = table_by_signature(small.mem, small.rsdp, "FACP");
    auto dsdt = read_table(small.mem, get<uint32_t>(facp, fadt::DSDT));
    CHECK(aml_dword_name(dsdt, "PHLO") == 512 * pc::MiB);
    CHECK(aml_dword_name(dsdt, "COMP") == 0x1);
    CHECK(s5_slp_typ(dsdt) == pc::SLP_TYP_S5);

    auto big = build(8 * pc::GiB, 0x5);
    facp = table_by_signature(big.mem, big.rsdp, "FACP");
    dsdt = read_table(big.mem, get<uint32_t>(facp, fadt::DSDT));
    CHECK(aml_dword_name(dsdt, "PHLO") == 3 * pc::GiB);
    CHECK(aml_dword_name(dsdt, "COMP") == 0x5);
    CHECK(byte_sum(dsdt, dsdt.size()) == 0);
}

TEST_CASE("patch_aml_dword_name needs exactly one DWord Name") {
    std::vector<uint8_t> aml = {0x08, 'A', 'B', 'C', 'D', 0x0c, 1, 2, 3, 4, 0x08, 'A', 'B', 'C', 'E', 0x0a, 7};
    CHECK(acpi::patch_aml_dword_name(aml, "ABCD", 0x11223344));
    CHECK(get<uint32_t>(aml, 6) == 0x11223344);
    CHECK_FALSE(acpi::patch_aml_dword_name(aml, "ABCE", 1));  // a Byte, not a DWord
    CHECK_FALSE(acpi::patch_aml_dword_name(aml, "WXYZ", 1));
    aml.insert(aml.end(), aml.begin(), aml.begin() + 10);  // now twice
    CHECK_FALSE(acpi::patch_aml_dword_name(aml, "ABCD", 1));
}

TEST_CASE("rebuilding the tables writes the same bytes") {
    auto b = build(512 * pc::MiB);
    auto before = read_bytes(b.mem, pc::BIOS_AREA_START, pc::BIOS_AREA_END - pc::BIOS_AREA_START);
    std::vector<uint8_t> junk(0x400, 0xee);
    REQUIRE(b.mem.write(b.rsdp, junk));  // a guest scribbles over them
    AcpiConfig cfg;
    cfg.smp.cpus = cfg.smp.maxcpus = 2;
    cfg.serial_ports = 1;
    CHECK(build_acpi_tables(b.mem, cfg) == b.rsdp);
    CHECK(read_bytes(b.mem, pc::BIOS_AREA_START, before.size()) == before);
}
