#include "machine/boot/e820.h"

#include "kvm/pc_memory_map.h"

#include <algorithm>

namespace kestrel {
namespace {

// The region that starts at 0: conventional memory, then RAM from 1 MiB.
void add_low_region(std::vector<E820Entry>& map, uint64_t size) {
    map.push_back({0, std::min(size, pc::EBDA_START), E820Type::Ram});
    if (size > pc::EBDA_START)
        map.push_back({pc::EBDA_START, pc::VGA_HOLE_START - pc::EBDA_START, E820Type::Reserved});
    map.push_back({pc::BIOS_AREA_START, pc::BIOS_AREA_END - pc::BIOS_AREA_START,
                   E820Type::Reserved});
    if (size > pc::KERNEL_LOAD_ADDR)
        map.push_back({pc::KERNEL_LOAD_ADDR, size - pc::KERNEL_LOAD_ADDR, E820Type::Ram});
}

} // namespace

std::vector<E820Entry> build_e820(const GuestMemory& mem) {
    std::vector<E820Entry> map;
    for (const MemoryRegion& r : mem.regions()) {
        if (r.gpa == 0)
            add_low_region(map, r.size);
        else
            map.push_back({r.gpa, r.size, E820Type::Ram});
    }
    // KVM_SET_IDENTITY_MAP_ADDR page + KVM_SET_TSS_ADDR's three pages.
    constexpr uint64_t kvm_pages_end = pc::KVM_TSS_ADDR + 3 * 0x1000;
    if (!mem.host_ptr(pc::KVM_IDENTITY_MAP_ADDR, 1))  // a test's flat RAM may cover it
        map.push_back({pc::KVM_IDENTITY_MAP_ADDR, kvm_pages_end - pc::KVM_IDENTITY_MAP_ADDR,
                       E820Type::Reserved});
    std::sort(map.begin(), map.end(),
              [](const E820Entry& a, const E820Entry& b) { return a.addr < b.addr; });
    return map;
}

} // namespace kestrel
