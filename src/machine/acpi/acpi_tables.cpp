#include "machine/acpi/acpi_tables.h"

#include "machine/acpi/acpi_table.h"
#include "machine/acpi/tables.h"
#include "kvm/pc_memory_map.h"

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
    Area area(pc::BIOS_AREA_START, pc::BIOS_AREA_END);
    const uint64_t rsdp = area.reserve(RSDP_SIZE, 16);
    const uint64_t facs = area.add(build_facs(), 64);
    const uint64_t dsdt = area.add(build_dsdt(mem.below_4g(), cfg.serial_ports, cfg.pvpanic_port));
    const uint64_t fadt = area.add(build_fadt(facs, dsdt));
    const uint64_t madt = area.add(build_madt(cfg.smp));
    const uint64_t tables[] = {fadt, madt};
    const uint64_t rsdt = area.add(build_rsdt(tables));
    const uint64_t xsdt = area.add(build_xsdt(tables));
    area.put(rsdp, build_rsdp(rsdt, xsdt));
    if (!mem.write(pc::BIOS_AREA_START, area.bytes()))
        throw std::runtime_error("guest RAM does not cover the ACPI table area");
    return rsdp;
}

} // namespace kestrel
