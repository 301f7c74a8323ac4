#pragma once
// Guest RAM as -m, -mem-path and -mem-prealloc ask for it.
#include <cstdint>
#include <string>

namespace kestrel {

struct MemoryConfig {
    uint64_t size = 128ull << 20;  // QEMU's default -m 128M
    bool prealloc = false;         // -mem-prealloc
    std::string mem_path;          // -mem-path (hugetlbfs or any directory/file)
    unsigned slots = 0;            // -m slots= (memory hotplug slots)
    uint64_t maxmem = 128ull << 20;  // -m maxmem=; equals size when not given
};

} // namespace kestrel
