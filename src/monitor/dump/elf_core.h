#pragma once
// The ELF core file of dump-guest-memory, laid out as QEMU 7.2 writes it:
//   ELF header | section headers (NULL, .shstrtab) | PT_NOTE, PT_LOAD... |
//   notes | guest memory, block after block | .shstrtab's bytes
// Always ELFCLASS64: QEMU's pc machine has its BIOS ROM end at 4 GiB, so its
// dumps never fit ELFCLASS32. e_machine is EM_X86_64 when the first vCPU
// is in long mode (x86_64 NT_PRSTATUS), else EM_386 (i386 NT_PRSTATUS).
// Notes: one NT_PRSTATUS "CORE" note per vCPU, then one "QEMU" note
// (QEMUCPUState, version 1) per vCPU. Without paging a PT_LOAD's p_vaddr
// is its p_paddr, as QEMU 7.2 writes it.
#include "monitor/dump/ram_block.h"
#include "vcpu/cpu_dump_state.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace kestrel {

struct DumpRange {
    uint64_t begin = 0, length = 0;
};

struct ElfCorePlan {
    std::vector<uint8_t> head;       // everything before the memory
    std::vector<RamBlock> memory;    // written in this order right after head
    std::vector<uint8_t> tail;       // after the memory
    uint64_t memory_bytes = 0;       // query-dump's total
};

// The blocks a dump covers: all of `ram`, or what of it lies in `filter`
// (QEMU's begin/length), in address order; empty when nothing does.
std::vector<RamBlock> dump_blocks(const std::vector<RamBlock>& ram, const std::optional<DumpRange>& filter);

// The notes of the PT_NOTE (the kdump formats hold the same); `cpus` in
// vCPU index order.
std::vector<uint8_t> elf_core_notes(const std::vector<CpuDumpState>& cpus);

// `blocks` as dump_blocks gives them; `cpus` in vCPU index order.
ElfCorePlan plan_elf_core(const std::vector<CpuDumpState>& cpus, const std::vector<RamBlock>& blocks);

} // namespace kestrel
