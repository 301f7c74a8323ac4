#include "machine/boot/elf_image.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace kestrel {
namespace {

constexpr uint32_t PT_LOAD = 1;
constexpr uint32_t PT_NOTE = 4;

[[noreturn]] void malformed() { throw std::runtime_error("Error while loading elf kernel"); }

// Bounds-checked little-endian reads from the file.
class Reader {
public:
    explicit Reader(std::span<const uint8_t> file) : file_(file) {}
    uint64_t get(uint64_t off, unsigned size) const {
        if (off > file_.size() || size > file_.size() - off) malformed();
        uint64_t v = 0;
        for (unsigned i = 0; i < size; ++i) v |= uint64_t(file_[off + i]) << (8 * i);
        return v;
    }
    std::span<const uint8_t> bytes(uint64_t off, uint64_t size) const {
        if (off > file_.size() || size > file_.size() - off) malformed();
        return file_.subspan(off, size);
    }

private:
    std::span<const uint8_t> file_;
};

uint64_t align4(uint64_t v) { return (v + 3) & ~uint64_t(3); }

// Notes are {u32 namesz, u32 descsz, u32 type, name, desc}, name and desc
// each padded to 4 bytes (in ELF32 and ELF64 alike).
void read_notes(const Reader& r, uint64_t off, uint64_t size, std::vector<ElfNote>& notes) {
    std::span<const uint8_t> seg = r.bytes(off, size);
    Reader s(seg);
    uint64_t at = 0;
    while (at + 12 <= seg.size()) {
        uint64_t namesz = s.get(at, 4), descsz = s.get(at + 4, 4);
        uint32_t type = uint32_t(s.get(at + 8, 4));
        std::span<const uint8_t> name = s.bytes(at + 12, namesz);
        uint64_t desc_at = at + 12 + align4(namesz);
        std::span<const uint8_t> desc = s.bytes(desc_at, descsz);
        std::string text(name.begin(), name.end());
        if (!text.empty() && text.back() == '\0') text.pop_back();
        notes.push_back({text, type, desc});
        at = desc_at + align4(descsz);
    }
}

struct ProgramHeader {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

ProgramHeader program_header(const Reader& r, bool is64, uint64_t at) {
    if (is64)
        return {uint32_t(r.get(at, 4)), r.get(at + 8, 8), r.get(at + 24, 8), r.get(at + 32, 8), r.get(at + 40, 8)};
    return {uint32_t(r.get(at, 4)), r.get(at + 4, 4), r.get(at + 12, 4), r.get(at + 16, 4), r.get(at + 20, 4)};
}

void add_load(ElfImage& image, const Reader& r, const ProgramHeader& ph) {
    if (ph.filesz > ph.memsz || ph.paddr > std::numeric_limits<uint64_t>::max() - ph.memsz) malformed();
    r.bytes(ph.offset, ph.filesz);  // the file holds it
    if (ph.memsz == 0) return;
    image.loads.push_back({ph.paddr, ph.offset, ph.filesz, ph.memsz});
    image.low = image.loads.size() == 1 ? ph.paddr : std::min(image.low, ph.paddr);
    image.high = std::max(image.high, ph.paddr + ph.memsz);
}

} // namespace

bool is_elf(std::span<const uint8_t> file) {
    return file.size() >= 4 && file[0] == 0x7f && file[1] == 'E' && file[2] == 'L' && file[3] == 'F';
}

ElfImage parse_elf(std::span<const uint8_t> file) {
    if (!is_elf(file) || file.size() < 52) malformed();
    Reader r(file);
    ElfImage image;
    uint8_t cls = file[4], data = file[5];
    if ((cls != 1 && cls != 2) || data != 1) malformed();
    image.is64 = cls == 2;
    image.machine = uint16_t(r.get(18, 2));
    image.entry = image.is64 ? r.get(24, 8) : r.get(24, 4);
    uint64_t phoff = image.is64 ? r.get(32, 8) : r.get(28, 4);
    unsigned phentsize = unsigned(r.get(image.is64 ? 54 : 42, 2));
    unsigned phnum = unsigned(r.get(image.is64 ? 56 : 44, 2));
    if (phentsize < (image.is64 ? 56u : 32u)) malformed();
    for (unsigned i = 0; i < phnum; ++i) {
        ProgramHeader ph = program_header(r, image.is64, phoff + uint64_t(i) * phentsize);
        if (ph.type == PT_LOAD) add_load(image, r, ph);
        if (ph.type == PT_NOTE) read_notes(r, ph.offset, ph.filesz, image.notes);
    }
    if (image.loads.empty()) malformed();
    return image;
}

void copy_elf_loads(const ElfImage& image, std::span<const uint8_t> file, std::span<uint8_t> out) {
    for (const ElfSegment& s : image.loads)
        std::memcpy(out.data() + (s.paddr - image.low), file.data() + s.offset, s.filesz);
}

} // namespace kestrel
