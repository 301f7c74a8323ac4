#pragma once
// Where things live in guest physical memory on the pc machine: the
// addresses the direct boot path uses, the PCI hole, the APICs and the
// pages KVM needs for itself.
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
constexpr uint64_t VGA_HOLE_END = 0xc0000;      // the legacy VGA window: MMIO, never RAM
constexpr uint64_t BIOS_AREA_START = 0xe0000;  // ACPI tables live here (reserved)
constexpr uint64_t SMBIOS_AREA_START = 0xf0000;  // and SMBIOS from here (the F segment dmi_scan searches)
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

inline uint64_t ram_below_4g(uint64_t ram) {
    return ram >= LOWMEM_SPLIT_THRESHOLD ? LOWMEM_LIMIT : ram;
}
inline uint64_t ram_above_4g(uint64_t ram) { return ram - ram_below_4g(ram); }

} // namespace kestrel::pc
