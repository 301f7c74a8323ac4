#pragma once
// Where things live in guest physical memory on the pc machine.
#include <cstdint>

namespace kestrel::pc {

constexpr uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

// Low memory used by the direct kernel boot path.
constexpr uint64_t GDT_ADDR = 0x500;
constexpr uint64_t BOOT_STACK = 0x8ff0;
constexpr uint64_t ZERO_PAGE_ADDR = 0x7000;    // struct boot_params
constexpr uint64_t PML4_ADDR = 0x9000;         // identity-map page tables
constexpr uint64_t PDPT_ADDR = 0xa000;
constexpr uint64_t PD_ADDR = 0xb000;           // 4 pages: 4 GiB in 2 MiB pages
constexpr uint64_t CMDLINE_ADDR = 0x20000;
constexpr uint64_t CMDLINE_MAX = 0x10000;
constexpr uint64_t EBDA_START = 0x9fc00;
constexpr uint64_t VGA_HOLE_START = 0xa0000;
constexpr uint64_t BIOS_AREA_START = 0xe0000;  // ACPI tables live here (reserved)
constexpr uint64_t BIOS_AREA_END = 0x100000;
constexpr uint64_t KERNEL_LOAD_ADDR = 0x100000;

// The PCI hole below 4 GiB. As QEMU's pc: RAM below 4 GiB ends at 3 GiB once
// -m reaches 3.5 GiB; the rest of RAM goes above 4 GiB.
constexpr uint64_t LOWMEM_SPLIT_THRESHOLD = 0xe0000000;
constexpr uint64_t LOWMEM_LIMIT = 0xc0000000;
constexpr uint64_t HIGHMEM_START = 4 * GiB;

constexpr uint64_t IOAPIC_ADDR = 0xfec00000;
constexpr uint64_t LAPIC_ADDR = 0xfee00000;
constexpr uint64_t KVM_TSS_ADDR = 0xfffbd000;     // 3 pages, set by KVM_SET_TSS_ADDR
constexpr uint64_t KVM_IDENTITY_MAP_ADDR = 0xfffbc000;

// ACPI PM I/O block of the PIIX4 function (QEMU's default base).
constexpr uint16_t ACPI_PM_BASE = 0x600;
constexpr unsigned ACPI_SCI_IRQ = 9;

inline uint64_t ram_below_4g(uint64_t ram) {
    return ram >= LOWMEM_SPLIT_THRESHOLD ? LOWMEM_LIMIT : ram;
}
inline uint64_t ram_above_4g(uint64_t ram) { return ram - ram_below_4g(ram); }

} // namespace kestrel::pc

namespace kestrel::pc {
// PIIX4 power management registers (offsets from ACPI_PM_BASE) and the
// values the FADT and DSDT publish for them.
constexpr uint16_t PM1_EVT_OFFSET = 0x00;  // 2 bytes status, 2 bytes enable
constexpr uint16_t PM1_CNT_OFFSET = 0x04;  // 2 bytes
constexpr uint16_t PM_TMR_OFFSET = 0x08;   // 4 bytes, 24-bit counter at 3.579545 MHz
constexpr uint16_t PM_BLOCK_LEN = 0x40;    // PIIX4 PMBA decodes 64 bytes
constexpr uint16_t GPE0_BASE = 0xafe0;     // 2 bytes status, 2 bytes enable
constexpr uint16_t GPE0_LEN = 4;
constexpr uint16_t RESET_CONTROL_PORT = 0xcf9;  // FADT RESET_REG, value 0x06
constexpr uint8_t RESET_VALUE = 0x06;
constexpr unsigned SLP_TYP_S5 = 0;         // \_S5 package value, PM1_CNT bits 10-12
constexpr uint16_t PM1_CNT_SCI_EN = 1u << 0;
constexpr uint16_t PM1_CNT_SLP_EN = 1u << 13;
constexpr unsigned PM1_CNT_SLP_TYP_SHIFT = 10;
constexpr uint16_t PM1_STS_TMR = 1u << 0;
constexpr uint16_t PM1_STS_PWRBTN = 1u << 8;
// FADT SMI_CMD is 0: the machine is always in ACPI mode, SCI_EN reads 1.
} // namespace kestrel::pc
