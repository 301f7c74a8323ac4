#include "machine/acpi/acpi_tables.h"

#include "machine/acpi/acpi_table.h"
#include "machine/acpi/table_loader.h"
#include "machine/acpi/tables.h"
#include "kvm/pc_memory_map.h"
#include "vcpu/topology.h"

#include <cstring>
#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {
namespace {

// Lays tables out one after the other in a buffer mirroring the BIOS area.
class Area {
public:
    Area(uint64_t base, uint64_t end) : base_(base), end_(end) {}

    uint64_t reserve(size_t size, size_t align) {
        size_t off = (bytes_.size() + align - 1) / align * align;
        if (base_ + off + size > end_)
            throw std::runtime_error(fmt::format(
                "ACPI tables do not fit in the {} KiB BIOS area", (end_ - base_) >> 10));
        bytes_.resize(off + size, 0);
        return base_ + off;
    }
    uint64_t add(std::span<const uint8_t> table, size_t align = 16) {
        uint64_t gpa = reserve(table.size(), align);
        put(gpa, table);
        return gpa;
    }
    void put(uint64_t gpa, std::span<const uint8_t> table) {
        std::copy(table.begin(), table.end(), bytes_.begin() + (gpa - base_));
    }
    const std::vector<uint8_t>& bytes() const { return bytes_; }

private:
    uint64_t base_, end_;
    std::vector<uint8_t> bytes_;
};

constexpr size_t RSDP_SIZE = 36;

struct Layout {
    uint64_t facs, dsdt, fadt, madt, rsdt, xsdt;
};

// Every table but the RSDP, one after the other from where `area` is.
Layout lay_out_tables(Area& area, uint64_t below_4g, const AcpiConfig& cfg) {
    using namespace acpi;
    Layout at{};
    at.facs = area.add(build_facs(), 64);
    std::vector<uint32_t> hotplug_cpus;
    if (cfg.smp.maxcpus > cfg.smp.cpus)
        for (unsigned i = 0; i < cfg.smp.maxcpus; ++i) hotplug_cpus.push_back(apic_id_for(i, cfg.smp));
    at.dsdt = area.add(build_dsdt(below_4g, cfg.serial_ports, cfg.pvpanic_port, hotplug_cpus));
    at.fadt = area.add(build_fadt(at.facs, at.dsdt));
    at.madt = area.add(build_madt(cfg.smp));
    const uint64_t tables[] = {at.fadt, at.madt};
    at.rsdt = area.add(build_rsdt(tables));
    at.xsdt = area.add(build_xsdt(tables));
    return at;
}

uint32_t table_length(const std::vector<uint8_t>& blob, uint64_t at) {
    uint32_t length;
    std::memcpy(&length, blob.data() + at + acpi::LENGTH_OFFSET, 4);
    return length;
}

} // namespace

namespace acpi {

std::vector<uint8_t> build_rsdt(std::span<const uint64_t> tables) {
    TableBuilder t("RSDT", 1);
    for (uint64_t a : tables) t.u32(uint32_t(a));
    return t.finish();
}

std::vector<uint8_t> build_xsdt(std::span<const uint64_t> tables) {
    TableBuilder t("XSDT", 1);
    for (uint64_t a : tables) t.u64(a);
    return t.finish();
}

std::vector<uint8_t> build_rsdp(uint64_t rsdt_addr, uint64_t xsdt_addr) {
    std::vector<uint8_t> r(RSDP_SIZE, 0);
    const uint32_t rsdt = uint32_t(rsdt_addr), len = RSDP_SIZE;
    std::memcpy(r.data(), "RSD PTR ", 8);
    std::copy(OEM_ID.begin(), OEM_ID.end(), r.begin() + 9);
    r[15] = 2;  // revision: ACPI 2.0+ (has XSDT)
    std::memcpy(r.data() + 16, &rsdt, 4);
    std::memcpy(r.data() + 20, &len, 4);
    std::memcpy(r.data() + 24, &xsdt_addr, 8);
    r[8] = checksum_of(std::span(r).first(20));  // ACPI 1.0 part
    r[32] = checksum_of(r);                      // extended checksum, all 36 bytes
    return r;
}

} // namespace acpi

uint64_t build_acpi_tables(const GuestMemory& mem, const AcpiConfig& cfg) {
    using namespace acpi;
    Area area(pc::BIOS_AREA_START, pc::SMBIOS_AREA_START);
    const uint64_t rsdp = area.reserve(RSDP_SIZE, 16);
    const Layout at = lay_out_tables(area, mem.below_4g(), cfg);
    area.put(rsdp, build_rsdp(at.rsdt, at.xsdt));
    if (!mem.write(pc::BIOS_AREA_START, area.bytes()))
        throw std::runtime_error("guest RAM does not cover the ACPI table area");
    return rsdp;
}

} // namespace kestrel

namespace kestrel {

// The same tables at offsets from 0 in one file, the RSDP in another, and
// the loader commands that place both and turn offsets into addresses.
AcpiFwCfgFiles build_acpi_fw_cfg_files(uint64_t below_4g, const AcpiConfig& cfg) {
    using namespace acpi;
    constexpr std::string_view kTables = AcpiFwCfgFiles::TABLES, kRsdp = AcpiFwCfgFiles::RSDP;
    Area area(0, 1ull << 24);
    const Layout at = lay_out_tables(area, below_4g, cfg);
    AcpiFwCfgFiles out;
    out.tables = area.bytes();
    out.rsdp = build_rsdp(at.rsdt, at.xsdt);

    TableLoader loader;
    loader.allocate(kTables, 64, TableLoader::ZONE_HIGH);
    loader.allocate(kRsdp, 16, TableLoader::ZONE_FSEG);
    auto pointer = [&](uint64_t field, uint8_t size) { loader.add_pointer(kTables, kTables, uint32_t(field), size); };
    pointer(at.fadt + fadt::FIRMWARE_CTRL, 4);
    pointer(at.fadt + fadt::DSDT, 4);
    pointer(at.fadt + fadt::X_FIRMWARE_CTRL, 8);
    pointer(at.fadt + fadt::X_DSDT, 8);
    const size_t entries = (table_length(out.tables, at.rsdt) - HEADER_SIZE) / 4;
    for (size_t i = 0; i < entries; ++i) {
        pointer(at.rsdt + HEADER_SIZE + 4 * i, 4);
        pointer(at.xsdt + HEADER_SIZE + 8 * i, 8);
    }
    for (uint64_t table : {at.dsdt, at.fadt, at.madt, at.rsdt, at.xsdt})
        loader.add_checksum(kTables, uint32_t(table + CHECKSUM_OFFSET), uint32_t(table),
                            table_length(out.tables, table));
    loader.add_pointer(kRsdp, kTables, 16, 4);  // RsdtAddress
    loader.add_pointer(kRsdp, kTables, 24, 8);  // XsdtAddress
    loader.add_checksum(kRsdp, 8, 0, 20);
    loader.add_checksum(kRsdp, 32, 0, RSDP_SIZE);
    out.loader = loader.bytes();
    return out;
}

} // namespace kestrel
