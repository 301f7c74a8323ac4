#pragma once
// Booting a bzImage's kernel without running its decompressor in the
// guest: the decompressed kernel comes from the kernel cache, is copied to
// a physical address and relocated to a virtual offset chosen as the
// kernel's KASLR would (nokaslr honoured), and the vCPU enters its 64-bit
// entry. On a cache miss the payload is decompressed on the host first
// (on the machine's preload thread, beside the VM's creation), stored, and
// booted from the new entry: decompressing beside a guest that boots the
// bzImage did the same work twice, and on a busy host the second copy
// slowed the guest (bench/RESULTS.md, cold cache). When another kestrel is
// filling the entry or the folder cannot be written, the guest boots the
// bzImage and decompresses itself.
#include "machine/boot/kaslr.h"
#include "machine/boot/kernel_cache.h"
#include "machine/boot/file_bytes.h"
#include "machine/boot/kernel_payload.h"
#include "kvm/guest_memory.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kestrel {

struct CachedKernelBoot {
    uint64_t entry_rip;  // physical address of startup_64
    uint64_t phys;       // where the kernel was loaded
    uint64_t virt;       // its virtual offset (load_phys when not moved)
    bool randomized;     // KASLR applied: KASLR_FLAG goes in the zero page
};

class CachedKernel {
public:
    // nullptr when the environment disables the cache or the image has no
    // payload kestrel can decompress.
    static std::unique_ptr<CachedKernel> for_image(std::shared_ptr<const FileBytes> image,
                                                   const SetupHeader& header,
                                                   const KernelPayload& payload, std::string path);
    // `caches` in lookup order, not empty; a miss fills the first.
    CachedKernel(std::vector<KernelCache> caches, std::shared_ptr<const FileBytes> image,
                 const SetupHeader& header, const KernelPayload& payload, std::string path);
    CachedKernel(const CachedKernel&) = delete;
    CachedKernel& operator=(const CachedKernel&) = delete;

    // Loads the kernel from the cache, avoiding [avoid_start, avoid_end)
    // (the initrd); `memory_is_zero`: guest RAM is still untouched, so zero
    // pages need not be written. A miss or a bad entry (removed, with a
    // warning) is filled first, at start-up only (the first load); nullopt
    // when that fails: the caller boots the bzImage.
    std::optional<CachedKernelBoot> load(const GuestMemory& mem, bool memory_is_zero,
                                         const std::string& cmdline, uint64_t avoid_start,
                                         uint64_t avoid_end);

    const KernelCache& cache() const { return caches_.front(); }
    const CacheKey& key() const { return key_; }

private:
    // Where this boot puts the kernel (KASLR's choice) and its bytes in
    // guest RAM, whose first writes start faulting in; nullopt without room.
    struct Placement {
        KaslrChoice where;
        uint8_t* dest;
    };
    std::optional<Placement> place(const KernelLayout& l, const GuestMemory& mem, const std::string& cmdline,
                                   uint64_t avoid_start, uint64_t avoid_end) const;
    CachedKernelBoot relocate(const KernelLayout& l, const Placement& at, const Relocations& relocs) const;
    std::optional<CachedKernelBoot> load_entry(const KernelCache& cache, const GuestMemory& mem,
                                               bool memory_is_zero, const std::string& cmdline,
                                               uint64_t avoid_start, uint64_t avoid_end);
    // Decompresses the payload and stores it, keeping it in filled_ for
    // this start's load; false when not stored.
    bool fill();
    // The kernel fill() just stored, from memory: reading the entry back
    // would give the same bytes.
    std::optional<CachedKernelBoot> load_filled(const GuestMemory& mem, bool memory_is_zero,
                                                const std::string& cmdline, uint64_t avoid_start,
                                                uint64_t avoid_end);

    struct Filled {
        DecompressedKernel payload;
        ParsedVmlinux kernel;
    };

    std::vector<KernelCache> caches_;
    std::shared_ptr<const FileBytes> image_;
    SetupHeader header_;
    KernelPayload payload_;
    std::string path_;
    CacheKey key_;
    bool has_kaslr_;
    bool loaded_before_ = false;
    std::optional<Filled> filled_;
};

// The lowest `bytes` of free RAM above ZONE_DMA (16 MiB) and below
// `ram_end`, skipping the [start, end) ranges in `used` (the kernel, the
// initrd), as {gpa, len} ranges: where Linux's page allocator hands out
// its first pages, which the booting kernel writes (page tables, slab, the
// unpacked initramfs; traced: bench/RESULTS.md, 2026-12-04 night).
std::vector<std::pair<uint64_t, uint64_t>> ram_allocated_first(
    uint64_t ram_end, uint64_t bytes, std::vector<std::pair<uint64_t, uint64_t>> used);

// The highest `bytes` of free RAM below `top` (the initrd, or the end of
// RAM below 4 GiB) and above 16 MiB, skipping `used`, as {gpa, len}
// ranges, highest first: where memblock, allocating top-down, puts the
// booting kernel's struct pages, page tables and per-CPU areas.
std::vector<std::pair<uint64_t, uint64_t>> ram_memblock_allocates_first(
    uint64_t top, uint64_t bytes, std::vector<std::pair<uint64_t, uint64_t>> used);

// True if the bzImage's decompressor (outside its compressed payload) was
// built with KASLR (CONFIG_RANDOMIZE_BASE): its kaslr.c messages are there.
bool bzimage_has_kaslr(std::span<const uint8_t> image, const KernelPayload& payload);

} // namespace kestrel
