#pragma once
// The MTRRs a PC's firmware leaves behind (SeaBIOS programs them on every
// QEMU boot). A kernel entered directly by kestrel finds them already set;
// with MTRRs left at their reset value (disabled) Linux also turns PAT off.
#include <cstdint>
#include <vector>

namespace kestrel {

struct MsrValue {
    uint32_t index;
    uint64_t value;
};

constexpr uint32_t MSR_MTRR_DEF_TYPE = 0x2ff;
constexpr unsigned MTRR_VARIABLE_COUNT = 8;  // KVM's MTRRcap.VCNT

// Fixed ranges: RAM below 0xa0000 write-back, the VGA window 0xa0000-0xbffff
// uncached, 0xc0000-0xfffff (ROMs, ACPI, SMBIOS) write-protected. Variable
// ranges: the 32-bit PCI hole [ram_below_4g, 4 GiB) uncached, as aligned
// power-of-two blocks (at most MTRR_VARIABLE_COUNT; what is left at the
// hole's bottom stays write-back, as with SeaBIOS's single range). Default
// type write-back, fixed and variable ranges enabled. `phys_bits` is the
// guest's physical address width (CPUID 0x80000008 EAX[7:0]).
std::vector<MsrValue> pc_mtrr_msrs(uint64_t ram_below_4g, unsigned phys_bits);

} // namespace kestrel
