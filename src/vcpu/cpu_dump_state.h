#pragma once
// A vCPU's registers as a guest memory dump records them (QEMU's
// QEMUCPUState and the ELF NT_PRSTATUS notes). Read with the vCPU out of
// KVM_RUN.
#include <array>
#include <cstdint>

namespace kestrel {

// A segment as QEMU's SegmentCache holds it: `flags` are descriptor bits
// 8..23 (type, S, DPL, P, AVL, L, D/B, G); P is clear for an unusable one.
struct DumpSegment {
    uint32_t selector = 0, limit = 0, flags = 0;
    uint64_t base = 0;
};

struct CpuDumpState {
    // rax rcx rdx rbx rsp rbp rsi rdi r8..r15: the instruction encoding's order.
    std::array<uint64_t, 16> gpr{};
    uint64_t rip = 0, rflags = 0;
    DumpSegment es, cs, ss, ds, fs, gs, ldt, tr, gdt, idt;   // gdt/idt: base and limit only
    std::array<uint64_t, 5> cr{};   // cr0..cr4 (cr1 is always 0)
    uint64_t kernel_gs_base = 0;
    bool long_mode = false;   // EFER.LMA
};

enum Gpr { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

// Throws std::runtime_error when KVM refuses.
CpuDumpState capture_dump_state(int vcpu_fd);

} // namespace kestrel
