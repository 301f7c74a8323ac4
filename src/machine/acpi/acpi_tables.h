#pragma once
// ACPI tables of the pc machine, written into the BIOS area
// (pc::BIOS_AREA_START .. pc::BIOS_AREA_END, e820-reserved).
#include "config/config.h"
#include "kvm/guest_memory.h"

#include <cstdint>
#include <vector>

namespace kestrel {

struct AcpiConfig {
    SmpConfig smp;                  // cpus present, maxcpus possible, topology
    uint32_t serial_ports = 0;      // bit N set: COM(N+1) is present
    uint16_t pvpanic_port = 0;      // the pvpanic device's port, 0 for none
};

// Builds RSDP, RSDT, XSDT, FADT, FACS, MADT and DSDT into guest memory and
// returns the RSDP's guest physical address (16-byte aligned, in the
// 0xE0000-0xFFFFF legacy search area). The 32-bit PCI window published in
// the DSDT starts at mem.below_4g(). Deterministic: rebuilding after a reset
// writes the same bytes to the same places. Throws std::runtime_error if the
// tables do not fit.
uint64_t build_acpi_tables(const GuestMemory& mem, const AcpiConfig& cfg);

// The same tables for a BIOS, as QEMU hands them over in fw_cfg: the
// tables (offsets from 0), the RSDP, and the linker/loader script that has
// the firmware place them (tables in high memory, RSDP in the F segment)
// and relocate their pointers and checksums.
struct AcpiFwCfgFiles {
    static constexpr const char* TABLES = "etc/acpi/tables";
    static constexpr const char* RSDP = "etc/acpi/rsdp";
    static constexpr const char* LOADER = "etc/table-loader";
    std::vector<uint8_t> tables, rsdp, loader;
};
AcpiFwCfgFiles build_acpi_fw_cfg_files(uint64_t below_4g, const AcpiConfig& cfg);

} // namespace kestrel
