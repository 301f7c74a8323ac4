#include "machine/boot/kernel_payload.h"

#include <algorithm>
#include <cstring>
#include <elf.h>
#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {
namespace {

constexpr uint64_t MAX_DECOMPRESSED = 1ull << 30;
constexpr uint64_t MAX_IMAGE = 1ull << 30;            // the kernel's virtual mapping is 1 GiB
constexpr uint64_t TOP_2G = 0xffffffff80000000ull;  // 32-bit relocations sign-extend into it

[[noreturn]] void bad(const std::string& why) { throw PayloadError("decompressed kernel: " + why); }

template <typename T> T read_at(std::span<const uint8_t> b, uint64_t off) {
    if (off > b.size() || sizeof(T) > b.size() - off) bad("header beyond the end of the file");
    T v;
    std::memcpy(&v, b.data() + off, sizeof v);
    return v;
}

Elf64_Ehdr elf_header(std::span<const uint8_t> p) {
    auto eh = read_at<Elf64_Ehdr>(p, 0);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) bad("not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_X86_64)
        bad("not a 64-bit x86 ELF file");
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
        bad("bad program header table");
    return eh;
}

// End of everything the ELF file itself uses: the relocation table follows.
uint64_t elf_end(const Elf64_Ehdr& eh, const std::vector<Elf64_Phdr>& ph) {
    uint64_t end = eh.e_phoff + uint64_t(eh.e_phnum) * eh.e_phentsize;
    end = std::max(end, eh.e_shoff + uint64_t(eh.e_shnum) * eh.e_shentsize);
    for (const auto& p : ph) end = std::max(end, p.p_offset + p.p_filesz);
    return end;
}

void place_segments(ParsedVmlinux& v, const std::vector<Elf64_Phdr>& ph, uint64_t payload_size) {
    KernelLayout& l = v.layout;
    bool first = true;
    for (const auto& p : ph) {
        if (p.p_type != PT_LOAD) continue;
        if (p.p_offset > payload_size || p.p_filesz > payload_size - p.p_offset)
            bad("a segment lies beyond the end of the file");
        if (p.p_filesz > p.p_memsz || p.p_paddr < l.load_phys ||
            p.p_paddr - l.load_phys > MAX_IMAGE || p.p_memsz > MAX_IMAGE)
            bad(fmt::format("segment at physical {:#x} is outside the kernel's 1 GiB", p.p_paddr));
        uint64_t off = p.p_paddr - l.load_phys;
        if (first) {
            l.kernel_map = p.p_vaddr - p.p_paddr;
            first = false;
        }
        v.segments.push_back({off, p.p_offset, p.p_filesz});
        l.image_size = std::max(l.image_size, off + p.p_filesz);
        l.memory_size = std::max(l.memory_size, off + p.p_memsz);
    }
    if (v.segments.empty()) bad("no loadable segment");
    if (l.kernel_map < TOP_2G) bad("the kernel is not linked in the top 2 GiB");
    std::sort(v.segments.begin(), v.segments.end(),
              [](const auto& a, const auto& b) { return a.image_offset < b.image_offset; });
    if (v.segments.front().image_offset != 0) bad("no segment at the load address");
    for (size_t i = 1; i < v.segments.size(); i++) {
        const auto& prev = v.segments[i - 1];
        if (v.segments[i].image_offset < prev.image_offset + prev.size) bad("segments overlap");
    }
    if (l.image_size > MAX_IMAGE || l.memory_size > MAX_IMAGE) bad("kernel larger than 1 GiB");
}

// One list of the table, read backwards from `pos` to its zero terminator.
// Each entry is a kernel virtual address as a sign-extended 32-bit value.
std::vector<uint32_t> read_list(std::span<const uint8_t> p, uint64_t& pos, uint64_t floor,
                                const KernelLayout& l, unsigned width, const char* what) {
    std::vector<uint32_t> out;
    for (;;) {
        if (pos < floor + 4) bad(fmt::format("{} relocation list runs into the kernel", what));
        pos -= 4;
        int32_t raw;
        std::memcpy(&raw, p.data() + pos, 4);
        if (raw == 0) return out;
        uint64_t virt = uint64_t(int64_t(raw));
        uint64_t off = virt - l.kernel_map - l.load_phys;
        if (virt < l.kernel_map + l.load_phys || off > l.image_size || width > l.image_size - off)
            bad(fmt::format("{} relocation at {:#x} outside of the kernel", what, virt));
        out.push_back(uint32_t(off));
    }
}

} // namespace

std::optional<KernelPayload> find_payload(std::span<const uint8_t> image, const SetupHeader& h,
                                          const std::string& path) {
    if (h.payload_offset == 0 || h.payload_length == 0) return std::nullopt;
    const uint64_t start = h.setup_bytes() + uint64_t(h.payload_offset);
    const uint64_t end = start + h.payload_length;
    if (end > image.size())
        throw std::runtime_error(fmt::format(
            "could not load kernel '{}': kernel image is truncated (its compressed kernel ends "
            "at byte {}, the file has {})", path, end, image.size()));
    auto bytes = image.subspan(start, h.payload_length);
    auto c = detect_compression(bytes);
    if (!c || bytes.size() < 8) return std::nullopt;
    uint32_t size;
    std::memcpy(&size, bytes.data() + bytes.size() - 4, 4);
    return KernelPayload{bytes, *c, size};
}

DecompressedKernel decompress_payload(const KernelPayload& p) {
    if (p.decompressed_size < sizeof(Elf64_Ehdr) || p.decompressed_size > MAX_DECOMPRESSED)
        throw PayloadError(fmt::format("{} kernel announces an implausible size ({} bytes)",
                                       compression_name(p.compression), p.decompressed_size));
    DecompressedKernel out{std::make_unique_for_overwrite<uint8_t[]>(p.decompressed_size), p.decompressed_size};
    size_t got = decompress_into(p.compression, p.bytes, {out.bytes.get(), out.size});
    if (got != p.decompressed_size)
        throw PayloadError(fmt::format("{} kernel decompressed to {} bytes, not the {} it announces",
                                       compression_name(p.compression), got, p.decompressed_size));
    return out;
}

ParsedVmlinux parse_vmlinux(std::span<const uint8_t> p, uint64_t load_phys) {
    const Elf64_Ehdr eh = elf_header(p);
    std::vector<Elf64_Phdr> ph;
    for (unsigned i = 0; i < eh.e_phnum; i++)
        ph.push_back(read_at<Elf64_Phdr>(p, eh.e_phoff + uint64_t(i) * sizeof(Elf64_Phdr)));
    ParsedVmlinux v;
    v.layout.load_phys = load_phys;
    place_segments(v, ph, p.size());
    KernelLayout& l = v.layout;
    if (eh.e_entry < load_phys || eh.e_entry - load_phys >= l.image_size)
        bad(fmt::format("entry point {:#x} is outside the kernel", eh.e_entry));
    l.entry_offset = eh.e_entry - load_phys;
    l.memory_size = std::max<uint64_t>(l.memory_size, p.size());
    const uint64_t floor = elf_end(eh, ph);
    if (floor > p.size()) bad("ELF tables beyond the end of the file");
    uint64_t pos = p.size();
    v.relocations.r32 = read_list(p, pos, floor, l, 4, "32-bit");
    v.relocations.r32_inverse = read_list(p, pos, floor, l, 4, "inverse 32-bit");
    v.relocations.r64 = read_list(p, pos, floor, l, 8, "64-bit");
    return v;
}

void walk_image(const ParsedVmlinux& k, std::span<const uint8_t> payload, uint64_t size,
                const std::function<void(const uint8_t*, uint64_t)>& piece) {
    size = std::min(size, k.layout.image_size);
    uint64_t pos = 0;
    for (const auto& s : k.segments) {
        if (s.image_offset >= size) break;
        if (pos < s.image_offset) piece(nullptr, s.image_offset - pos);
        const uint64_t n = std::min(s.size, size - s.image_offset);
        piece(payload.data() + s.file_offset, n);
        pos = s.image_offset + n;
    }
    if (pos < size) piece(nullptr, size - pos);
}

void lay_out_image(const ParsedVmlinux& k, std::span<const uint8_t> payload, std::span<uint8_t> dest,
                   bool dest_is_zero) {
    if (dest.size() != k.layout.image_size) throw PayloadError("kernel image size mismatch");
    uint64_t pos = 0;
    walk_image(k, payload, dest.size(), [&](const uint8_t* bytes, uint64_t n) {
        if (bytes)
            std::memcpy(dest.data() + pos, bytes, n);
        else if (!dest_is_zero)
            std::memset(dest.data() + pos, 0, n);
        pos += n;
    });
}

void apply_relocations(std::span<uint8_t> image, const Relocations& r, int64_t delta) {
    if (delta == 0) return;
    auto check = [&](uint32_t off, size_t width) {
        if (off > image.size() || width > image.size() - off)
            throw PayloadError("relocation outside of the kernel image");
        return image.data() + off;
    };
    for (uint32_t off : r.r32) {
        uint8_t* at = check(off, 4);
        uint32_t v;
        std::memcpy(&v, at, 4);
        v += uint32_t(delta);
        std::memcpy(at, &v, 4);
    }
    for (uint32_t off : r.r32_inverse) {
        uint8_t* at = check(off, 4);
        uint32_t v;
        std::memcpy(&v, at, 4);
        v -= uint32_t(delta);
        std::memcpy(at, &v, 4);
    }
    for (uint32_t off : r.r64) {
        uint8_t* at = check(off, 8);
        uint64_t v;
        std::memcpy(&v, at, 8);
        v += uint64_t(delta);
        std::memcpy(at, &v, 8);
    }
}

} // namespace kestrel
