#pragma once
// The Intel MultiProcessor Specification 1.4 tables a PC BIOS leaves in low
// memory: the "_MP_" floating pointer and the "PCMP" configuration table
// (processors, buses, the IOAPIC, ISA interrupt routing, LINT0/LINT1).
// SeaBIOS builds them under QEMU; a directly booted kernel finds them here.
//
// Linux looks for the floating pointer before it reads ACPI, 16 bytes at a
// time in [0, 1K), [639K, 640K) and then the 64 KiB F segment, mapping what
// is left of each range afresh at every step (early_memremap: one TLB flush
// per page mapped and unmapped). Without a table it walks the whole F
// segment: ~70,000 single-page flushes, each a VM exit where the host runs
// on shadow paging. So the pointer sits at 639K, the second place searched.
#include "kvm/guest_memory.h"
#include "kvm/pc_memory_map.h"
#include "vcpu/cpu_config.h"

#include <cstdint>
#include <vector>

namespace kestrel {

struct MpTableConfig {
    SmpConfig smp;              // cpus present, maxcpus listed (disabled)
    uint32_t cpu_signature = 0; // CPUID leaf 1 EAX of the BSP
    uint32_t cpu_features = 0;  // CPUID leaf 1 EDX of the BSP
};

namespace mptable {
// 639K, the last KiB of base memory (MP spec 1.4, 4.1: where there is no
// EBDA), e820-reserved up to the VGA hole.
constexpr uint64_t FLOATING_ADDR = pc::EBDA_START;
constexpr uint64_t LOW_AREA_END = pc::VGA_HOLE_START;
constexpr uint8_t IOAPIC_ID = 0;             // as the MADT
constexpr uint8_t LAPIC_VERSION = 0x14;      // KVM's in-kernel local APIC
constexpr uint8_t IOAPIC_VERSION = 0x11;     // KVM's in-kernel IOAPIC
constexpr uint8_t PCI_BUS_ID = 0, ISA_BUS_ID = 1;
} // namespace mptable

// The configuration table (position-independent: it holds no pointers).
std::vector<uint8_t> build_mp_config_table(const MpTableConfig& cfg);
// The 16-byte floating pointer naming a configuration table at `table_addr`.
std::vector<uint8_t> build_mp_floating_pointer(uint64_t table_addr);

// Writes the floating pointer at mptable::FLOATING_ADDR and the
// configuration table right after it when it fits below 640K, else at the
// top of the F segment, which must then be free from `f_segment_free_from`.
// Returns the configuration table's address. Throws std::runtime_error if
// the table fits nowhere or guest RAM does not cover the place.
uint64_t install_mp_table(const GuestMemory& mem, const MpTableConfig& cfg, uint64_t f_segment_free_from);

} // namespace kestrel
