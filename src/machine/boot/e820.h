#pragma once
// The BIOS e820 memory map the pc machine reports to a directly booted kernel.
#include "kvm/guest_memory.h"

#include <cstdint>
#include <vector>

namespace kestrel {

enum class E820Type : uint32_t { Ram = 1, Reserved = 2, Acpi = 3, Nvs = 4, Unusable = 5 };

struct E820Entry {
    uint64_t addr;
    uint64_t size;
    E820Type type;
    bool operator==(const E820Entry&) const = default;
};

// Usable RAM from `mem`, minus the EBDA, the VGA hole and the BIOS area
// (which holds the ACPI tables), plus the KVM identity-map/TSS pages as
// reserved. Sorted by address.
std::vector<E820Entry> build_e820(const GuestMemory& mem);

} // namespace kestrel
