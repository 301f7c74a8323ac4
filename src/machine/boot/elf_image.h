#pragma once
// The parts of an ELF executable a boot loader needs: its loadable
// segments (placed at their physical addresses, as QEMU's load_elf does),
// its entry, and its notes (the PVH entry is one). Parsing checks every
// offset against the file, so a truncated or malformed image is refused,
// never read past.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

constexpr uint16_t ELF_MACHINE_386 = 3;
constexpr uint16_t ELF_MACHINE_X86_64 = 62;

struct ElfSegment {
    uint64_t paddr;
    uint64_t offset;  // in the file
    uint64_t filesz;
    uint64_t memsz;
};

struct ElfNote {
    std::string name;  // without the NUL ("Xen")
    uint32_t type;
    std::span<const uint8_t> desc;  // into the file's bytes
};

struct ElfImage {
    bool is64 = false;
    uint16_t machine = 0;
    uint64_t entry = 0;
    std::vector<ElfSegment> loads;  // PT_LOAD with memsz > 0
    std::vector<ElfNote> notes;     // from PT_NOTE segments
    uint64_t low = 0;               // lowest paddr of a load
    uint64_t high = 0;              // end of the highest load (paddr + memsz)
};

// True if the bytes start with the ELF magic.
bool is_elf(std::span<const uint8_t> file);

// Parses a little-endian ELF32 or ELF64 executable. Throws
// std::runtime_error("Error while loading elf kernel") when a header,
// segment or note lies outside the file, a segment's file size exceeds its
// memory size, an address wraps, or there is nothing to load.
ElfImage parse_elf(std::span<const uint8_t> file);

// Copies the loads into `out`, which holds [image.low, image.high); gaps
// and the parts past each file size stay zero.
void copy_elf_loads(const ElfImage& image, std::span<const uint8_t> file, std::span<uint8_t> out);

} // namespace kestrel
