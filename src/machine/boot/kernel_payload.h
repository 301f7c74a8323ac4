#pragma once
// The compressed kernel inside a bzImage (boot protocol 2.08's payload
// fields) and what it decompresses to: the vmlinux ELF file followed by the
// kernel's relocation table (arch/x86/boot/compressed: vmlinux.bin +
// vmlinux.relocs). parse_vmlinux() does what the kernel's own decompressor
// does with it: places the PT_LOAD segments relative to the link-time
// physical address and reads the relocations, checking every bound.
#include "machine/boot/payload_codecs.h"
#include "machine/boot/setup_header.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

struct KernelPayload {
    std::span<const uint8_t> bytes;  // inside the image
    Compression compression;
    uint32_t decompressed_size;      // the payload's last 4 bytes
};

// The payload of `image`, or nullopt when it has none kestrel can read
// (protocol before 2.08, no payload, a compression it does not know).
// Throws std::runtime_error "could not load kernel '<path>': kernel image
// is truncated ..." when the payload reaches past the end of the file.
std::optional<KernelPayload> find_payload(std::span<const uint8_t> image, const SetupHeader& h,
                                          const std::string& path);

// A decompressed kernel. Its bytes are not cleared before the decoder
// writes them (a std::vector would: one more pass over tens of MiB), and
// they go back to the system when it goes (a separate mapping).
struct DecompressedKernel {
    std::unique_ptr<uint8_t[]> bytes;
    size_t size = 0;
    operator std::span<const uint8_t>() const { return {bytes.get(), size}; }
};

// Decompresses the payload and checks that it gives exactly the size the
// payload announces. Throws PayloadError.
DecompressedKernel decompress_payload(const KernelPayload& p);

// Where the decompressed kernel goes, relative to its load address.
struct KernelLayout {
    uint64_t load_phys = 0;     // link-time physical address (LOAD_PHYSICAL_ADDR)
    uint64_t kernel_map = 0;    // link-time virtual minus physical (__START_KERNEL_map)
    uint64_t entry_offset = 0;  // 64-bit entry (startup_64) from the load address
    uint64_t image_size = 0;    // bytes with file contents (segments and the gaps between)
    uint64_t memory_size = 0;   // bytes the kernel occupies from its load address, .bss included
};

struct VmlinuxSegment {
    uint64_t image_offset;  // from the load address
    uint64_t file_offset;   // in the decompressed payload
    uint64_t size;          // bytes from the file (p_filesz)
};

// Offsets into the image of the values to adjust when the kernel's virtual
// address moves by delta: 32-bit (+delta), inverse 32-bit (-delta), 64-bit.
struct Relocations {
    std::vector<uint32_t> r32, r32_inverse, r64;
    size_t count() const { return r32.size() + r32_inverse.size() + r64.size(); }
};

struct ParsedVmlinux {
    KernelLayout layout;
    std::vector<VmlinuxSegment> segments;  // sorted, not overlapping
    Relocations relocations;
};

// Parses a decompressed payload linked to run at `load_phys` (the setup
// header's pref_address). Throws PayloadError naming what is wrong.
ParsedVmlinux parse_vmlinux(std::span<const uint8_t> payload, uint64_t load_phys);

// The loaded image's first `size` bytes (layout.image_size at most), in
// order: `piece(bytes, n)` with a segment's bytes, or with nullptr for n
// zero bytes (the gaps between segments and after the last).
void walk_image(const ParsedVmlinux& k, std::span<const uint8_t> payload, uint64_t size,
                const std::function<void(const uint8_t*, uint64_t)>& piece);

// The loaded image in `dest` (layout.image_size bytes): the segments at
// their offsets, zeros elsewhere (not written when `dest_is_zero`).
void lay_out_image(const ParsedVmlinux& k, std::span<const uint8_t> payload, std::span<uint8_t> dest,
                   bool dest_is_zero);

// Adds `delta` to the kernel's virtual addresses in `image` (the loaded
// image, at least layout.image_size bytes). Offsets were checked when
// parsed; they are checked again against image.size(), so a bad table can
// never write outside it (throws PayloadError).
void apply_relocations(std::span<uint8_t> image, const Relocations& r, int64_t delta);

} // namespace kestrel
