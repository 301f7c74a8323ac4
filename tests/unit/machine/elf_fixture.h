#pragma once
// Synthetic ELF kernels (ELF32 or ELF64, with loads and notes) and
// multiboot headers for the boot loader tests.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace kestrel::test {

struct FakeElf {
    struct Load {
        uint64_t paddr;
        std::vector<uint8_t> data;
        uint64_t memsz;  // >= data.size()
    };
    struct Note {
        std::string name;
        uint32_t type;
        std::vector<uint8_t> desc;
    };
    bool is64 = false;
    uint16_t machine = 3;  // EM_386
    uint64_t entry = 0x100000;
    std::vector<Load> loads;
    std::vector<Note> notes;

    template <typename T> static void put(std::vector<uint8_t>& v, size_t off, T x) {
        if (v.size() < off + sizeof x) v.resize(off + sizeof x);
        std::memcpy(v.data() + off, &x, sizeof x);
    }
    static void put_n(std::vector<uint8_t>& v, size_t off, uint64_t x, bool wide) {
        if (wide) put<uint64_t>(v, off, x);
        else put<uint32_t>(v, off, uint32_t(x));
    }

    std::vector<uint8_t> note_bytes() const {
        std::vector<uint8_t> out;
        for (const Note& n : notes) {
            size_t at = out.size();
            put<uint32_t>(out, at, uint32_t(n.name.size() + 1));
            put<uint32_t>(out, at + 4, uint32_t(n.desc.size()));
            put<uint32_t>(out, at + 8, n.type);
            out.insert(out.end(), n.name.begin(), n.name.end());
            out.resize((out.size() + 1 + 3) & ~size_t(3), 0);
            out.insert(out.end(), n.desc.begin(), n.desc.end());
            out.resize((out.size() + 3) & ~size_t(3), 0);
        }
        return out;
    }

    // Headers, then the program headers, the notes, and the loads' data.
    std::vector<uint8_t> bytes() const {
        size_t ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32;
        size_t phnum = loads.size() + (notes.empty() ? 0 : 1);
        std::vector<uint8_t> v(ehsize + phnum * phentsize, 0);
        v[0] = 0x7f, v[1] = 'E', v[2] = 'L', v[3] = 'F', v[4] = is64 ? 2 : 1, v[5] = 1, v[6] = 1;
        put<uint16_t>(v, 16, 2);  // ET_EXEC
        put<uint16_t>(v, 18, machine);
        put<uint32_t>(v, 20, 1);
        put_n(v, 24, entry, is64);
        put_n(v, is64 ? 32 : 28, ehsize, is64);  // phoff
        put<uint16_t>(v, is64 ? 52 : 40, uint16_t(ehsize));
        put<uint16_t>(v, is64 ? 54 : 42, uint16_t(phentsize));
        put<uint16_t>(v, is64 ? 56 : 44, uint16_t(phnum));
        size_t ph = ehsize;
        auto program_header = [&](uint32_t type, uint64_t offset, uint64_t paddr, uint64_t filesz, uint64_t memsz) {
            put<uint32_t>(v, ph, type);
            if (is64) {
                put<uint64_t>(v, ph + 8, offset), put<uint64_t>(v, ph + 16, paddr), put<uint64_t>(v, ph + 24, paddr);
                put<uint64_t>(v, ph + 32, filesz), put<uint64_t>(v, ph + 40, memsz);
            } else {
                put<uint32_t>(v, ph + 4, uint32_t(offset)), put<uint32_t>(v, ph + 8, uint32_t(paddr));
                put<uint32_t>(v, ph + 12, uint32_t(paddr)), put<uint32_t>(v, ph + 16, uint32_t(filesz));
                put<uint32_t>(v, ph + 20, uint32_t(memsz));
            }
            ph += phentsize;
        };
        if (!notes.empty()) {
            std::vector<uint8_t> n = note_bytes();
            program_header(4, v.size(), 0, n.size(), n.size());
            v.insert(v.end(), n.begin(), n.end());
        }
        for (const Load& l : loads) {
            program_header(1, v.size(), l.paddr, l.data.size(), l.memsz);
            v.insert(v.end(), l.data.begin(), l.data.end());
        }
        return v;
    }
};

// A multiboot header at `offset` of `file` (grown as needed).
inline void put_multiboot_header(std::vector<uint8_t>& file, size_t offset, uint32_t flags,
                                 std::vector<uint32_t> aout = {}, bool good_checksum = true) {
    FakeElf::put<uint32_t>(file, offset, 0x1badb002);
    FakeElf::put<uint32_t>(file, offset + 4, flags);
    FakeElf::put<uint32_t>(file, offset + 8, uint32_t(-(0x1badb002 + flags)) + (good_checksum ? 0 : 1));
    for (size_t i = 0; i < aout.size(); ++i) FakeElf::put<uint32_t>(file, offset + 12 + 4 * i, aout[i]);
}

} // namespace kestrel::test
