#pragma once
// Guest RAM: one host mapping split into regions around the PCI hole.
// All accessors bounds-check; a guest-supplied address outside RAM yields
// nullptr / false, never a host fault.
#include "kvm/host_memory.h"
#include "kvm/memory_config.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace kestrel {

struct MemoryRegion {
    uint64_t gpa;
    uint64_t size;
    uint8_t* host;
};

class GuestMemory {
public:
    // Maps RAM for the pc layout (throws std::runtime_error with a message
    // a user can act on).
    static GuestMemory create_pc(const MemoryConfig& cfg);
    // Plain anonymous memory at gpa 0, for unit tests.
    static GuestMemory create_flat(uint64_t size);

    GuestMemory(GuestMemory&& other) noexcept;
    GuestMemory& operator=(GuestMemory&&) = delete;
    GuestMemory(const GuestMemory&) = delete;
    ~GuestMemory();

    const std::vector<MemoryRegion>& regions() const { return regions_; }
    uint64_t ram_size() const { return map_size_; }
    uint64_t below_4g() const;
    uint64_t above_4g() const;
    // True for anonymous RAM and a new memfd, which read as zeros until
    // written (a -mem-path or memory-backend-file file may hold anything).
    bool zero_at_creation() const { return zero_at_creation_; }

    // Host pointer for [gpa, gpa+len) if it lies in one region, else nullptr.
    uint8_t* host_ptr(uint64_t gpa, uint64_t len) const;
    bool read(uint64_t gpa, std::span<uint8_t> out) const;
    // The backing's page size: 4 KiB, or a hugetlbfs file's huge page size.
    uint64_t page_size() const { return page_size_; }
    // Gives [host, host+len) back to the host, as QEMU's
    // ram_block_discard_range: the pages read as zeros afterwards (a
    // -mem-path file gets a hole punched). The range must lie inside the
    // mapping and start and end on page_size() boundaries; false (logged
    // once) when it does not or the kernel refuses.
    bool discard(uint8_t* host, uint64_t len) const;
    bool write(uint64_t gpa, std::span<const uint8_t> in) const;
    // Faults each {gpa, len} range in, in order (each from its end down),
    // on a thread of its own, without changing what it holds: for RAM the
    // guest is about to write (a kernel's .bss, which its first
    // instructions clear). The guest's first touch of a page costs an exit
    // and the host's fault (in a nested host ~40 ms per 2 MiB huge page:
    // bench/RESULTS.md, 2026-12-04 night); done here it overlaps the VM's
    // creation. A range outside one region is skipped; a second call waits
    // for the first.
    void populate_in_background(std::vector<std::pair<uint64_t, uint64_t>> ranges) const;
    // Waits for populate_in_background() to finish.
    void wait_for_populate() const;
    // Until release_populate(), populate_in_background() only takes note.
    // For -S: before the guest runs, faulting RAM in gains nothing and
    // competes with the monitor's start-up dialog (libvirt's) for CPU and
    // the mmap lock (bench/RESULTS.md, 2026-12-05).
    void hold_populate() const { populate_held_ = true; }
    void release_populate() const;

    template <typename T> bool write_obj(uint64_t gpa, const T& v) const {
        return write(gpa, {reinterpret_cast<const uint8_t*>(&v), sizeof v});
    }
    template <typename T> bool read_obj(uint64_t gpa, T& v) const {
        return read(gpa, {reinterpret_cast<uint8_t*>(&v), sizeof v});
    }

private:
    GuestMemory(HostMemory ram, std::vector<MemoryRegion> regions);
    uint8_t* base_;
    uint64_t map_size_;
    std::vector<MemoryRegion> regions_;
    uint64_t page_size_ = 4096;
    bool zero_at_creation_;
    HostMemory ram_;  // owns the mapping and its file or memfd (for hole punching)
    class Populator;
    // Declared after ram_: stopped and joined before the mapping goes.
    mutable std::unique_ptr<Populator> populator_;
    mutable bool populate_held_ = false;
    mutable std::vector<std::pair<uint8_t*, uint64_t>> populate_pending_;
};

} // namespace kestrel
