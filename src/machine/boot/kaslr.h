#pragma once
// Kernel address space layout randomization for a kernel kestrel
// decompresses itself: the choices the kernel's own decompressor would make
// (arch/x86/boot/compressed/kaslr.c), a random physical load address and a
// random virtual offset, each a multiple of the kernel's alignment.
#include <cstdint>
#include <functional>
#include <string>

namespace kestrel {

struct KaslrRequest {
    std::string cmdline;
    bool kernel_has_kaslr = false;  // built with CONFIG_RANDOMIZE_BASE
    uint64_t load_phys = 0;         // link-time physical address (pref_address)
    uint64_t alignment = 0;         // kernel_alignment (CONFIG_PHYSICAL_ALIGN)
    uint64_t memory_size = 0;       // bytes the kernel needs from its load address
    uint64_t ram_end = 0;           // usable RAM is [1 MiB, ram_end)
    uint64_t avoid_start = 0;       // a range to keep clear (the initrd); empty if equal
    uint64_t avoid_end = 0;
};

struct KaslrChoice {
    uint64_t phys = 0;          // where the kernel is loaded
    uint64_t virt = 0;          // its virtual offset in the kernel mapping (load_phys: none)
    bool randomized = false;    // tell the kernel (KASLR_FLAG in loadflags)
};

// Bytes of the kernel's virtual mapping with KASLR (KERNEL_IMAGE_SIZE).
constexpr uint64_t KASLR_IMAGE_SIZE = 1ull << 30;

// True when the command line holds the word `word` (as the kernel's early
// parser cmdline_find_option_bool: whole words between white space).
bool cmdline_has_word(const std::string& cmdline, const std::string& word);

// `random` returns uniformly distributed 64-bit values. Without KASLR
// (the kernel lacks it, or `nokaslr`): load_phys, no virtual offset. With
// memmap= or gigantic-page options, whose holes kestrel does not model, the
// physical address stays at load_phys and only the virtual one moves.
KaslrChoice choose_kernel_location(const KaslrRequest& r, const std::function<uint64_t()>& random);

// A random 64-bit value from the host (getrandom).
uint64_t host_random64();

} // namespace kestrel
