#pragma once
// Power-on and boot-entry CPU state: the BSP enters a 64-bit Linux kernel
// directly (boot protocol "64-bit boot"), so kestrel builds the flat GDT and
// identity-mapped page tables the protocol requires.
#include "kvm/guest_memory.h"
#include "kvm/kvm_system.h"
#include "vcpu/mtrr.h"

#include <cstdint>

namespace kestrel {

struct LongModeEntry {
    uint64_t rip;
    uint64_t rsi;  // boot_params (zero page)
};

// GDT (__BOOT_CS 0x10, __BOOT_DS 0x18) and 4 GiB identity map in 2 MiB pages.
void write_long_mode_tables(const GuestMemory& memory);
void set_long_mode_registers(int vcpu_fd, const LongModeEntry& entry);

// The multiboot and PVH entry: flat 32-bit protected mode, paging off.
struct ProtectedModeEntry {
    uint32_t eip;
    uint32_t eax;
    uint32_t ebx;
};
// GDT with a flat 32-bit code (0x10) and data (0x18) segment and a 32-bit
// TSS (0x20), as PVH asks for TR.
void write_protected_mode_gdt(const GuestMemory& memory);
void set_protected_mode_registers(int vcpu_fd, const ProtectedModeEntry& entry);
// LINT0 as ExtINT, LINT1 as NMI, so the 8259 reaches the BSP as on a PC.
void set_lapic_virtual_wire(int vcpu_fd);
// MSRs with their reset values, each only if KVM lists it as settable;
// then `unlisted` (KVM handles MTRRs without listing them in
// KVM_GET_MSR_INDEX_LIST, so QEMU sets them whenever CPUID has MTRR).
void set_reset_msrs(int vcpu_fd, const KvmSystem& kvm, const std::vector<MsrValue>& unlisted = {});

} // namespace kestrel
