#include "monitor/dump/elf_core.h"

#include <algorithm>
#include <cstring>
#include <elf.h>
#include <string_view>

namespace kestrel {

namespace {

constexpr std::string_view kShstrtab{"\0.shstrtab\0", 11};
constexpr uint32_t kNoteNameSize = 5;   // "CORE" and "QEMU" with their NUL
constexpr size_t kPrstatus64Size = 336, kPrstatus32Size = 144, kQemuStateSize = 440;

size_t round4(size_t n) { return (n + 3) & ~size_t(3); }

size_t note_size(size_t desc) { return round4(sizeof(Elf64_Nhdr)) + round4(kNoteNameSize) + round4(desc); }

class Bytes {
public:
    explicit Bytes(std::vector<uint8_t>& out) : out_(out) {}
    template <typename T> void put(const T& v) {
        const auto* p = reinterpret_cast<const uint8_t*>(&v);
        out_.insert(out_.end(), p, p + sizeof v);
    }
    // Writes v at `at` bytes into a block that starts at `base`.
    template <typename T> static void poke(uint8_t* base, size_t at, T v) { std::memcpy(base + at, &v, sizeof v); }

private:
    std::vector<uint8_t>& out_;
};

// A note's header and name; returns where its (zeroed) descriptor starts.
uint8_t* begin_note(std::vector<uint8_t>& out, const char* name, uint32_t type, size_t desc) {
    size_t at = out.size();
    out.resize(at + note_size(desc));
    Elf64_Nhdr h{kNoteNameSize, static_cast<Elf64_Word>(desc), type};
    std::memcpy(out.data() + at, &h, sizeof h);
    std::memcpy(out.data() + at + round4(sizeof h), name, kNoteNameSize);
    return out.data() + at + round4(sizeof h) + round4(kNoteNameSize);
}

// Linux's x86_64 struct elf_prstatus: pr_pid at 32, user_regs_struct at 112.
void prstatus64(std::vector<uint8_t>& out, const CpuDumpState& c, uint32_t pid) {
    uint8_t* d = begin_note(out, "CORE", NT_PRSTATUS, kPrstatus64Size);
    Bytes::poke(d, 32, pid);
    const uint64_t regs[27] = {c.gpr[R15], c.gpr[R14], c.gpr[R13], c.gpr[R12], c.gpr[RBP], c.gpr[RBX], c.gpr[R11],
                               c.gpr[R10], c.gpr[R9],  c.gpr[R8],  c.gpr[RAX], c.gpr[RCX], c.gpr[RDX], c.gpr[RSI],
                               c.gpr[RDI], 0 /* orig_rax */, c.rip, c.cs.selector, c.rflags, c.gpr[RSP],
                               c.ss.selector, c.fs.base, c.gs.base, c.ds.selector, c.es.selector, c.fs.selector,
                               c.gs.selector};
    std::memcpy(d + 112, regs, sizeof regs);
}

// Linux's i386 struct elf_prstatus: pr_pid at 24, user_regs_struct at 72.
void prstatus32(std::vector<uint8_t>& out, const CpuDumpState& c, uint32_t pid) {
    uint8_t* d = begin_note(out, "CORE", NT_PRSTATUS, kPrstatus32Size);
    Bytes::poke(d, 24, pid);
    auto low = [](uint64_t v) { return static_cast<uint32_t>(v); };
    const uint32_t gprs[7] = {low(c.gpr[RBX]), low(c.gpr[RCX]), low(c.gpr[RDX]), low(c.gpr[RSI]),
                              low(c.gpr[RDI]), low(c.gpr[RBP]), low(c.gpr[RAX])};
    std::memcpy(d + 72, gprs, sizeof gprs);
    const uint16_t sel[4] = {uint16_t(c.ds.selector), uint16_t(c.es.selector), uint16_t(c.fs.selector),
                             uint16_t(c.gs.selector)};
    for (int i = 0; i < 4; i++) Bytes::poke(d, 100 + 4 * i, sel[i]);   // each with a 16-bit pad
    Bytes::poke(d, 120, low(c.rip));             // after orig_eax (0)
    Bytes::poke(d, 124, uint16_t(c.cs.selector));
    Bytes::poke(d, 128, low(c.rflags));
    Bytes::poke(d, 132, low(c.gpr[RSP]));
    Bytes::poke(d, 136, uint16_t(c.ss.selector));
}

// QEMU's QEMUCPUState, version 1 (target/i386/arch_dump.c), note type 0.
void qemu_note(std::vector<uint8_t>& out, const CpuDumpState& c) {
    uint8_t* d = begin_note(out, "QEMU", 0, kQemuStateSize);
    Bytes::poke(d, 0, uint32_t(1));
    Bytes::poke(d, 4, uint32_t(kQemuStateSize));
    const int order[16] = {RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP, R8, R9, R10, R11, R12, R13, R14, R15};
    size_t at = 8;
    for (int r : order) Bytes::poke(d, (at += 8) - 8, c.gpr[r]);
    Bytes::poke(d, at, c.rip);
    Bytes::poke(d, at + 8, c.rflags);
    at += 16;
    for (const DumpSegment* s : {&c.cs, &c.ds, &c.es, &c.fs, &c.gs, &c.ss, &c.ldt, &c.tr, &c.gdt, &c.idt}) {
        Bytes::poke(d, at, s->selector);
        Bytes::poke(d, at + 4, s->limit);
        Bytes::poke(d, at + 8, s->flags);
        Bytes::poke(d, at + 16, s->base);
        at += 24;
    }
    for (uint64_t cr : c.cr) Bytes::poke(d, (at += 8) - 8, cr);
    Bytes::poke(d, at, c.kernel_gs_base);
}

Elf64_Ehdr elf_header(bool long_mode, uint64_t phnum) {
    Elf64_Ehdr h{};
    std::memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    h.e_type = ET_CORE;
    h.e_machine = long_mode ? EM_X86_64 : EM_386;
    h.e_version = EV_CURRENT;
    h.e_phoff = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Shdr);
    h.e_shoff = sizeof(Elf64_Ehdr);
    h.e_ehsize = sizeof(Elf64_Ehdr);
    h.e_phentsize = sizeof(Elf64_Phdr);
    h.e_phnum = static_cast<Elf64_Half>(std::min<uint64_t>(phnum, PN_XNUM));
    h.e_shentsize = sizeof(Elf64_Shdr);
    h.e_shnum = 2;
    h.e_shstrndx = 1;
    return h;
}

} // namespace

std::vector<RamBlock> dump_blocks(const std::vector<RamBlock>& ram, const std::optional<DumpRange>& filter) {
    std::vector<RamBlock> out;
    for (const RamBlock& b : ram) {
        if (!filter) {
            out.push_back(b);
            continue;
        }
        // Unsigned, wrapping as QEMU's mixed signed/unsigned comparisons are.
        uint64_t lo = filter->begin, hi = filter->begin + filter->length;
        if (b.gpa >= hi || b.gpa + b.size <= lo) continue;
        uint64_t start = std::max(lo, b.gpa), end = std::min(hi, b.gpa + b.size);
        if (end > start) out.push_back({start, end - start});
    }
    return out;
}

std::vector<uint8_t> elf_core_notes(const std::vector<CpuDumpState>& cpus) {
    bool long_mode = !cpus.empty() && cpus.front().long_mode;
    std::vector<uint8_t> notes;
    for (size_t i = 0; i < cpus.size(); i++) {
        auto pid = static_cast<uint32_t>(i + 1);   // QEMU: cpu_index + 1
        long_mode ? prstatus64(notes, cpus[i], pid) : prstatus32(notes, cpus[i], pid);
    }
    for (const CpuDumpState& c : cpus) qemu_note(notes, c);
    return notes;
}

ElfCorePlan plan_elf_core(const std::vector<CpuDumpState>& cpus, const std::vector<RamBlock>& blocks) {
    bool long_mode = !cpus.empty() && cpus.front().long_mode;
    std::vector<uint8_t> notes = elf_core_notes(cpus);

    ElfCorePlan plan;
    uint64_t phnum = 1 + blocks.size();
    uint64_t notes_at = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Shdr) + phnum * sizeof(Elf64_Phdr);
    uint64_t memory_at = notes_at + notes.size();
    for (const RamBlock& b : blocks) plan.memory_bytes += b.size;

    Bytes out(plan.head);
    out.put(elf_header(long_mode, phnum));
    Elf64_Shdr none{};
    if (phnum >= PN_XNUM) none.sh_info = static_cast<Elf64_Word>(phnum);   // the real count
    out.put(none);
    Elf64_Shdr strtab{};
    strtab.sh_name = 1;
    strtab.sh_type = SHT_STRTAB;
    strtab.sh_offset = memory_at + plan.memory_bytes;
    strtab.sh_size = kShstrtab.size();
    out.put(strtab);
    Elf64_Phdr note{};
    note.p_type = PT_NOTE;
    note.p_offset = notes_at;
    note.p_filesz = note.p_memsz = notes.size();
    out.put(note);
    uint64_t offset = memory_at;
    for (const RamBlock& b : blocks) {
        Elf64_Phdr load{};
        load.p_type = PT_LOAD;
        load.p_offset = offset;
        load.p_paddr = load.p_vaddr = b.gpa;
        load.p_filesz = load.p_memsz = b.size;
        out.put(load);
        offset += b.size;
    }
    plan.head.insert(plan.head.end(), notes.begin(), notes.end());
    plan.memory = blocks;
    plan.tail.assign(kShstrtab.begin(), kShstrtab.end());
    return plan;
}

} // namespace kestrel
