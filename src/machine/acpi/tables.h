#pragma once
// Builders for the individual ACPI tables of the pc machine. Each returns a
// complete table with a correct checksum; acpi_tables.cpp lays them out.
#include "config/config.h"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kestrel::acpi {

// FADT field offsets (ACPI 6.x layout) used by the builder and the tests.
namespace fadt {
constexpr size_t FIRMWARE_CTRL = 36, DSDT = 40, SCI_INT = 46, SMI_CMD = 48;
constexpr size_t PM1A_EVT_BLK = 56, PM1A_CNT_BLK = 64, PM_TMR_BLK = 76, GPE0_BLK = 80;
constexpr size_t PM1_EVT_LEN = 88, PM1_CNT_LEN = 89, PM_TMR_LEN = 91, GPE0_BLK_LEN = 92;
constexpr size_t P_LVL2_LAT = 96, P_LVL3_LAT = 98, CENTURY = 108, IAPC_BOOT_ARCH = 109;
constexpr size_t FLAGS = 112, RESET_REG = 116, RESET_VALUE = 128, MINOR_VERSION = 131;
constexpr size_t X_FIRMWARE_CTRL = 132, X_DSDT = 140, X_PM1A_EVT_BLK = 148;
constexpr size_t X_PM1A_CNT_BLK = 172, X_PM_TMR_BLK = 208, X_GPE0_BLK = 220;
constexpr size_t SIZE = 276;
constexpr uint8_t REVISION = 6;

constexpr uint32_t FLAG_WBINVD = 1u << 0, FLAG_PROC_C1 = 1u << 2;
constexpr uint32_t FLAG_PWR_BUTTON = 1u << 4, FLAG_SLP_BUTTON = 1u << 5;
constexpr uint32_t FLAG_RESET_REG_SUP = 1u << 10;
constexpr uint16_t BOOT_LEGACY_DEVICES = 1u << 0, BOOT_8042 = 1u << 1;
} // namespace fadt

namespace madt {
constexpr uint8_t REVISION = 3;
constexpr uint32_t PCAT_COMPAT = 1;
constexpr uint8_t LOCAL_APIC = 0, IO_APIC = 1, INTERRUPT_OVERRIDE = 2, LOCAL_APIC_NMI = 4;
constexpr uint8_t LOCAL_X2APIC = 9, LOCAL_X2APIC_NMI = 10;
constexpr uint32_t ENABLED = 1;
constexpr uint16_t ACTIVE_HIGH_LEVEL = 0x000d;  // polarity 01, trigger 11
constexpr uint32_t MAX_XAPIC_ID = 254;          // 0xff is the broadcast ID
} // namespace madt

std::vector<uint8_t> build_facs();
std::vector<uint8_t> build_fadt(uint64_t facs_addr, uint64_t dsdt_addr);
// One local APIC entry per possible vCPU (smp.maxcpus), the present ones (smp.present)
// enabled; IOAPIC; ISA overrides; LINT1 NMI.
std::vector<uint8_t> build_madt(const SmpConfig& smp);

// firmware/dsdt.asl with its placeholders filled: the 32-bit PCI window
// starts at `pci_hole_start`; bit N of `com_ports` makes COM(N+1) present.
// `hotplug_cpus`: the APIC IDs of every possible vCPU when some can be
// hot-added (-smp maxcpus= above cpus=); the DSDT then has QEMU's ACPI CPU
// hotplug objects (cpu_hotplug_aml), and none otherwise.
std::vector<uint8_t> build_dsdt(uint64_t pci_hole_start, uint32_t com_ports, uint16_t pvpanic_port = 0,
                                std::span<const uint32_t> hotplug_cpus = {});
// \_SB.PCI0.PRES, \_SB.CPUS and \_GPE._E02 for these possible vCPUs.
std::vector<uint8_t> cpu_hotplug_aml(std::span<const uint32_t> apic_ids);
// Overwrites the DWord value of `Name (<name>, 0x...)` in AML. Returns false
// unless exactly one such DWord Name exists.
bool patch_aml_dword_name(std::span<uint8_t> aml, std::string_view name, uint32_t value);

std::vector<uint8_t> build_rsdt(std::span<const uint64_t> tables);
std::vector<uint8_t> build_xsdt(std::span<const uint64_t> tables);
std::vector<uint8_t> build_rsdp(uint64_t rsdt_addr, uint64_t xsdt_addr);

} // namespace kestrel::acpi
