#include "machine/boot/cached_kernel.h"

#include "machine/boot/kaslr.h"

#include <algorithm>
#include <chrono>
#include <malloc.h>
#include <cstring>
#include <spdlog/spdlog.h>

namespace kestrel {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

constexpr uint64_t kZoneDmaEnd = 16ull << 20;
// What the kernel allocates in boot (up to `Run /init`): ~34 MiB traced,
// and ~14 MiB of it from memblock before that (struct pages, page tables,
// per-CPU areas).
constexpr uint64_t kAllocatedInBoot = 32ull << 20;
constexpr uint64_t kMemblockInBoot = 16ull << 20;

// The RAM the load and the booting kernel write first, faulted in on the
// host beside the load: the image itself from its end down (the load
// fills it from the start, so the two share the faults and meet halfway:
// in the nested test host a huge page's first touch costs 40-140 ms, and
// the load's own faults were 0.8-2.5 s of it), then in the order the
// kernel writes them .bss and .brk (clear_bss, its first instructions),
// memblock's top-down allocations below the initrd, then the pages its
// page allocator hands out first.
void populate_first_writes(const GuestMemory& mem, uint64_t phys, const KernelLayout& l,
                           uint64_t initrd_start, uint64_t initrd_end) {
    const std::vector<std::pair<uint64_t, uint64_t>> used{{phys, phys + l.memory_size}, {initrd_start, initrd_end}};
    std::vector<std::pair<uint64_t, uint64_t>> ranges{{phys, l.image_size},
                                                      {phys + l.image_size, l.memory_size - l.image_size}};
    const uint64_t top = initrd_end > initrd_start ? initrd_start : mem.below_4g();
    for (const auto& r : ram_memblock_allocates_first(top, kMemblockInBoot, used)) ranges.push_back(r);
    for (const auto& r : ram_allocated_first(mem.below_4g(), kAllocatedInBoot, used)) ranges.push_back(r);
    mem.populate_in_background(std::move(ranges));
}

} // namespace

std::vector<std::pair<uint64_t, uint64_t>> ram_allocated_first(
    uint64_t ram_end, uint64_t bytes, std::vector<std::pair<uint64_t, uint64_t>> used) {
    std::sort(used.begin(), used.end());
    std::vector<std::pair<uint64_t, uint64_t>> out;
    uint64_t at = kZoneDmaEnd;
    auto take = [&](uint64_t end) {
        end = std::min(end, ram_end);
        if (end <= at || bytes == 0) return;
        uint64_t n = std::min(bytes, end - at);
        out.emplace_back(at, n);
        bytes -= n;
    };
    for (const auto& [start, end] : used) {
        if (end <= start) continue;
        take(start);
        at = std::max(at, end);
    }
    take(ram_end);
    return out;
}

std::vector<std::pair<uint64_t, uint64_t>> ram_memblock_allocates_first(
    uint64_t top, uint64_t bytes, std::vector<std::pair<uint64_t, uint64_t>> used) {
    std::sort(used.rbegin(), used.rend());
    std::vector<std::pair<uint64_t, uint64_t>> out;
    uint64_t at = top;
    auto take = [&](uint64_t low) {
        low = std::max(low, kZoneDmaEnd);
        if (at <= low || bytes == 0) return;
        uint64_t n = std::min(bytes, at - low);
        out.emplace_back(at - n, n);
        bytes -= n;
    };
    for (const auto& [start, end] : used) {
        if (end <= start || start >= at) continue;
        take(end);
        at = start;
    }
    take(kZoneDmaEnd);
    return out;
}

bool bzimage_has_kaslr(std::span<const uint8_t> image, const KernelPayload& payload) {
    static const char text[] = "KASLR disabled";
    auto before = image.first(size_t(payload.bytes.data() - image.data()));
    auto after = image.subspan(before.size() + payload.bytes.size());
    for (auto part : {before, after}) {
        if (memmem(part.data(), part.size(), text, sizeof text - 1)) return true;
    }
    return false;
}

std::unique_ptr<CachedKernel> CachedKernel::for_image(std::shared_ptr<const FileBytes> image,
                                                      const SetupHeader& header,
                                                      const KernelPayload& payload, std::string path) {
    std::vector<KernelCache> caches = KernelCache::from_environment();
    if (caches.empty() || !header.relocatable || header.pref_address == 0) return nullptr;
    return std::make_unique<CachedKernel>(std::move(caches), std::move(image), header, payload,
                                          std::move(path));
}

CachedKernel::CachedKernel(std::vector<KernelCache> caches, std::shared_ptr<const FileBytes> image,
                           const SetupHeader& header, const KernelPayload& payload, std::string path)
    : caches_(std::move(caches)), image_(std::move(image)), header_(header), payload_(payload),
      path_(std::move(path)), key_(kernel_cache_key(*image_)),
      has_kaslr_(bzimage_has_kaslr(*image_, payload_)) {}

std::optional<CachedKernelBoot> CachedKernel::load(const GuestMemory& mem, bool memory_is_zero,
                                                   const std::string& cmdline, uint64_t avoid_start,
                                                   uint64_t avoid_end) {
    const bool at_start_up = !loaded_before_;
    loaded_before_ = true;
    for (const KernelCache& cache : caches_) {
        if (auto boot = load_entry(cache, mem, memory_is_zero, cmdline, avoid_start, avoid_end)) return boot;
    }
    // Not at a reset: -sandbox may forbid writing files by then.
    if (!at_start_up || !fill()) return std::nullopt;
    if (!filled_) return load_entry(caches_.front(), mem, memory_is_zero, cmdline, avoid_start, avoid_end);
    std::optional<CachedKernelBoot> boot = load_filled(mem, memory_is_zero, cmdline, avoid_start, avoid_end);
    filled_.reset();
    malloc_trim(0);  // the decompressor's buffers (tens of MiB) go back to the system
    return boot;
}

std::optional<CachedKernel::Placement> CachedKernel::place(const KernelLayout& l, const GuestMemory& mem,
                                                           const std::string& cmdline, uint64_t avoid_start,
                                                           uint64_t avoid_end) const {
    KaslrRequest req{cmdline, has_kaslr_, l.load_phys, header_.kernel_alignment, l.memory_size,
                     mem.below_4g(), avoid_start, avoid_end};
    KaslrChoice where = choose_kernel_location(req, host_random64);
    uint8_t* dest = mem.host_ptr(where.phys, l.memory_size);
    if (!dest) return std::nullopt;  // no room in this guest's RAM: the bzImage tells why
    populate_first_writes(mem, where.phys, l, avoid_start, avoid_end);
    return Placement{where, dest};
}

CachedKernelBoot CachedKernel::relocate(const KernelLayout& l, const Placement& at,
                                        const Relocations& relocs) const {
    apply_relocations({at.dest, l.image_size}, relocs, int64_t(at.where.virt - l.load_phys));
    return CachedKernelBoot{at.where.phys + l.entry_offset, at.where.phys, at.where.virt, at.where.randomized};
}

std::optional<CachedKernelBoot> CachedKernel::load_entry(const KernelCache& cache, const GuestMemory& mem,
                                                         bool memory_is_zero, const std::string& cmdline,
                                                         uint64_t avoid_start, uint64_t avoid_end) {
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<CacheEntry> entry;
    std::string why;
    KernelCache::Status status = cache.open(key_, entry, why);
    if (status == KernelCache::Status::Hit) {
        const KernelLayout& l = entry->layout();
        Relocations relocs;
        if (l.load_phys != header_.pref_address) {
            why = "linked for another address";
        } else if (auto at = place(l, mem, cmdline, avoid_start, avoid_end); !at) {
            return std::nullopt;
        } else if (entry->read({at->dest, l.image_size}, memory_is_zero, relocs, why)) {
            const double t_read = seconds_since(t0);
            CachedKernelBoot boot = relocate(l, *at, relocs);
            entry->touch();
            spdlog::debug("kernel '{}': loaded from {} at {:#x} (virtual offset {:#x}) in {:.3f} s "
                          "({} bytes read and checked in {:.3f} s, {} relocations)",
                          path_, cache.entry_path(key_), boot.phys, boot.virt - l.load_phys,
                          seconds_since(t0), entry->data_size(), t_read, relocs.count());
            return boot;
        }
        cache.remove(key_);
        status = KernelCache::Status::Corrupt;
    }
    if (status == KernelCache::Status::Corrupt)
        spdlog::warn("kernel cache entry {} is bad ({}): removed, rebuilding it",
                     cache.entry_path(key_), why);
    return std::nullopt;
}

std::optional<CachedKernelBoot> CachedKernel::load_filled(const GuestMemory& mem, bool memory_is_zero,
                                                          const std::string& cmdline, uint64_t avoid_start,
                                                          uint64_t avoid_end) {
    const auto t0 = std::chrono::steady_clock::now();
    const ParsedVmlinux& k = filled_->kernel;
    const KernelLayout& l = k.layout;
    auto at = place(l, mem, cmdline, avoid_start, avoid_end);
    if (!at) return std::nullopt;
    lay_out_image(k, filled_->payload, {at->dest, l.image_size}, memory_is_zero);
    CachedKernelBoot boot = relocate(l, *at, k.relocations);
    spdlog::debug("kernel '{}': loaded from the payload just cached as {}, at {:#x} (virtual offset {:#x}) "
                  "in {:.3f} s ({} relocations)",
                  path_, caches_.front().entry_path(key_), boot.phys, boot.virt - l.load_phys,
                  seconds_since(t0), k.relocations.count());
    return boot;
}

bool CachedKernel::fill() {
    const auto t0 = std::chrono::steady_clock::now();
    const KernelCache& cache = caches_.front();
    auto lock = cache.try_lock_fill(key_);
    if (!lock) return false;  // another kestrel is filling it, or the folder is not writable
    std::optional<CacheEntry> existing;
    std::string why;
    if (cache.open(key_, existing, why) == KernelCache::Status::Hit) return true;  // filled meanwhile
    bool stored = false;
    try {
        DecompressedKernel out = decompress_payload(payload_);
        const double t_decompressed = seconds_since(t0);
        ParsedVmlinux k = parse_vmlinux(out, header_.pref_address);
        const double t_parsed = seconds_since(t0);
        cache.store(key_, k, out);
        stored = true;
        spdlog::debug("kernel '{}': {} payload decompressed to {} bytes and cached as {} in {:.3f} s "
                      "(decompressed in {:.3f} s, parsed in {:.3f} s, stored in {:.3f} s)",
                      path_, compression_name(payload_.compression), out.size, cache.entry_path(key_),
                      seconds_since(t0), t_decompressed, t_parsed - t_decompressed, seconds_since(t0) - t_parsed);
        filled_ = Filled{std::move(out), std::move(k)};
    } catch (const PayloadError& e) {
        spdlog::warn("kernel '{}': {}; it decompresses itself in the guest at every boot", path_,
                     e.what());
    } catch (const std::exception& e) {
        spdlog::debug("kernel '{}': not cached: {}", path_, e.what());
    }
    if (!stored) malloc_trim(0);  // else after the load from filled_
    return stored;
}

} // namespace kestrel
