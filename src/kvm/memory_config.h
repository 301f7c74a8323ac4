#pragma once
// Guest RAM as -m, -mem-path, -mem-prealloc and -machine memory-backend=
// ask for it.
#include <cstdint>
#include <optional>
#include <string>

namespace kestrel {

// One -object memory-backend-ram|file|memfd (QEMU's HostMemoryBackend and
// its subclasses), with QEMU 7.2's defaults.
struct MemoryBackendConfig {
    enum class Kind { Ram, File, Memfd };
    Kind kind = Kind::Ram;
    std::string id;
    uint64_t size = 0;
    bool share = false;     // MAP_SHARED (file, memfd) / shared anonymous memory (ram)
    bool prealloc = false;  // fault every page in at creation
    bool merge = true;      // MADV_MERGEABLE (KSM); default: -machine mem-merge
    bool dump = true;       // in core dumps; default: -machine dump-guest-core
    bool reserve = true;    // false: MAP_NORESERVE
    // memory-backend-file
    std::string mem_path;
    uint64_t align = 0;          // 0: the backing's page size
    bool discard_data = false;   // punch the file empty when the backend goes
    bool readonly = false;
    // memory-backend-memfd
    bool hugetlb = false;
    uint64_t hugetlbsize = 0;    // 0: the default huge page size
    bool seal = true;

    static const char* type_name(Kind k) {
        return k == Kind::Ram ? "memory-backend-ram" : k == Kind::File ? "memory-backend-file" : "memory-backend-memfd";
    }
};

struct MemoryConfig {
    uint64_t size = 128ull << 20;  // QEMU's default -m 128M
    bool prealloc = false;         // -mem-prealloc
    std::string mem_path;          // -mem-path (hugetlbfs or any directory/file)
    unsigned slots = 0;            // -m slots= (memory hotplug slots)
    uint64_t maxmem = 128ull << 20;  // -m maxmem=; equals size when not given
    bool dump = true;              // -machine dump-guest-core (MADV_DONTDUMP when off)
    bool merge = true;             // -machine mem-merge (MADV_MERGEABLE)
    // -machine memory-backend=ID: RAM is this backend's memory.
    std::optional<MemoryBackendConfig> backend;
};

} // namespace kestrel
