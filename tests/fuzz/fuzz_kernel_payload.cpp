// The compressed kernel inside a bzImage on its way into guest RAM without
// the guest's decompressor, as CachedKernel fills and loads it: the
// payload's decompression (any of the seven codecs, by its magic; input
// without one is taken as the decompressed vmlinux itself), the vmlinux ELF
// and its relocation table (parse_vmlinux), the kernel cache entry (stored
// in the target's scratch folder, opened and read back into guest RAM), the
// KASLR placement and the relocations applied there.
//
// Each step must succeed or refuse with a message (PayloadError, or the
// cache's std::runtime_error); what parse_vmlinux accepts must be
// self-consistent (segments inside the image, relocations inside it, the
// entry inside it); an entry just stored must read back with the same
// relocations; the chosen place must lie in guest RAM (128 MiB) outside
// the initrd, and everything is written there through GuestMemory's
// bounds-checked pointer.
//
// Input: u8 flags (bit 0: the kernel has KASLR; bit 1: an initrd to avoid
// at 64-96 MiB), u8 link address (2 MiB units, + 2 MiB), u64 the seed of
// KASLR's random numbers, then the payload (its last 4 bytes give the
// decompressed size, as in a bzImage).
#include "fuzz_support.h"
#include "kvm/guest_memory.h"
#include "machine/boot/kaslr.h"
#include "machine/boot/kernel_cache.h"
#include "machine/boot/kernel_payload.h"

#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>

using namespace kestrel;

namespace {

constexpr uint64_t kRam = 128ull << 20;
constexpr uint64_t kAlign = 2ull << 20;                   // CONFIG_PHYSICAL_ALIGN
constexpr uint64_t kCacheable = 64ull << 20;               // larger kernels are only parsed
constexpr uint64_t kInitrdStart = 64ull << 20, kInitrdEnd = 96ull << 20;

// The payload decompressed, or nullopt when refused.
std::optional<std::vector<uint8_t>> decompressed(std::span<const uint8_t> payload) {
    std::optional<Compression> c = detect_compression(payload);
    if (!c || payload.size() < 8) return std::vector<uint8_t>(payload.begin(), payload.end());
    uint32_t size;
    std::memcpy(&size, payload.data() + payload.size() - 4, 4);
    try {
        DecompressedKernel out = decompress_payload({payload, *c, size});
        FUZZ_CHECK(out.size == size, "a payload decompressed to another size than it announces");
        std::span<const uint8_t> bytes = out;
        return std::vector<uint8_t>(bytes.begin(), bytes.end());
    } catch (const PayloadError& e) {
        FUZZ_CHECK(*e.what() != '\0', "an error without a message");
        return std::nullopt;
    }
}

void check_parsed(const ParsedVmlinux& k) {
    const KernelLayout& l = k.layout;
    FUZZ_CHECK(l.image_size <= l.memory_size && l.memory_size <= (1ull << 30), "a kernel larger than 1 GiB");
    FUZZ_CHECK(l.entry_offset < l.image_size, "an entry outside the kernel");
    uint64_t end = 0;
    for (const VmlinuxSegment& s : k.segments) {
        FUZZ_CHECK(s.image_offset >= end && s.image_offset + s.size <= l.image_size, "segments out of place");
        end = s.image_offset + s.size;
    }
    auto inside = [&](const std::vector<uint32_t>& list, uint64_t width) {
        for (uint32_t off : list) FUZZ_CHECK(off + width <= l.image_size, "a relocation outside the kernel");
    };
    inside(k.relocations.r32, 4);
    inside(k.relocations.r32_inverse, 4);
    inside(k.relocations.r64, 8);
}

KaslrChoice place(const KernelLayout& l, bool kaslr, bool initrd, uint64_t seed) {
    std::mt19937_64 random(seed);
    KaslrRequest req{kaslr ? "console=ttyS0" : "nokaslr", kaslr, l.load_phys, kAlign, l.memory_size, kRam,
                     initrd ? kInitrdStart : 0, initrd ? kInitrdEnd : 0};
    KaslrChoice where = choose_kernel_location(req, [&] { return random(); });
    if (where.phys != l.load_phys) {
        FUZZ_CHECK(where.phys % kAlign == 0 && where.phys >= l.load_phys && where.phys + l.memory_size <= kRam,
                   "KASLR placed the kernel outside guest RAM");
        FUZZ_CHECK(!initrd || where.phys + l.memory_size <= kInitrdStart || where.phys >= kInitrdEnd,
                   "KASLR placed the kernel over the initrd");
    }
    if (where.virt != l.load_phys)
        FUZZ_CHECK(where.virt % kAlign == 0 && where.virt + l.memory_size <= KASLR_IMAGE_SIZE,
                   "KASLR moved the kernel outside its 1 GiB mapping");
    return where;
}

bool same(const Relocations& a, const Relocations& b) {
    return a.r32 == b.r32 && a.r32_inverse == b.r32_inverse && a.r64 == b.r64;
}

// Stores the kernel, reads it back into guest RAM at `where` (and lays it
// out from memory, as the start that fills the entry does: the same bytes),
// relocates it.
void load_through_cache(const ParsedVmlinux& k, std::span<const uint8_t> vmlinux, std::span<const uint8_t> input,
                        const KaslrChoice& where) {
    static const GuestMemory mem = GuestMemory::create_flat(kRam);
    static const KernelCache cache(fuzz::scratch_dir() + "/kernels", 4 * kCacheable);
    const KernelLayout& l = k.layout;
    uint8_t* dest = mem.host_ptr(where.phys, l.memory_size);
    if (!dest) return;  // CachedKernel boots the bzImage instead
    const CacheKey key = kernel_cache_key(input);
    try {
        cache.store(key, k, vmlinux);
    } catch (const std::runtime_error& e) {
        FUZZ_CHECK(*e.what() != '\0', "an error without a message");
        return;
    }
    std::optional<CacheEntry> entry;
    std::string why;
    const KernelCache::Status status = cache.open(key, entry, why);
    if (status != KernelCache::Status::Hit) std::fprintf(stderr, "kernel cache entry: %s\n", why.c_str());
    FUZZ_CHECK(status == KernelCache::Status::Hit, "an entry just stored does not open");
    Relocations relocs;
    const bool read = entry->read({dest, l.image_size}, false, relocs, why);
    if (!read) std::fprintf(stderr, "kernel cache entry: %s\n", why.c_str());
    FUZZ_CHECK(read, "an entry just stored does not read back");
    FUZZ_CHECK(same(relocs, k.relocations), "an entry just stored reads back other relocations");
    // The start that fills the entry boots from memory instead: the same bytes.
    std::vector<uint8_t> laid(l.image_size);
    lay_out_image(k, vmlinux, laid, false);
    FUZZ_CHECK(std::memcmp(laid.data(), dest, laid.size()) == 0,
               "the image laid out from memory differs from the entry read back");
    apply_relocations({dest, l.image_size}, relocs, int64_t(where.virt - l.load_phys));
    entry.reset();
    cache.remove(key);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::ByteReader in(data, size);
    const uint8_t flags = in.u8();
    const uint64_t load_phys = (uint64_t(in.u8()) + 1) * kAlign;
    const uint64_t seed = in.u64();
    const auto payload = in.rest();

    std::optional<std::vector<uint8_t>> vmlinux = decompressed(payload);
    if (!vmlinux) return 0;
    ParsedVmlinux k;
    try {
        k = parse_vmlinux(*vmlinux, load_phys);
    } catch (const PayloadError& e) {
        FUZZ_CHECK(*e.what() != '\0', "an error without a message");
        return 0;
    }
    check_parsed(k);
    KaslrChoice where = place(k.layout, flags & 1, flags & 2, seed);
    if (vmlinux->size() <= kCacheable) load_through_cache(k, *vmlinux, {data, size}, where);
    return 0;
}
