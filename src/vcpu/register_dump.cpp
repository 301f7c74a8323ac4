#include "vcpu/register_dump.h"

#include "kvm/kvm_abi.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <stdexcept>
#include <sys/ioctl.h>

namespace kestrel {
namespace {

constexpr uint64_t EFER_LMA = 1u << 10;
constexpr uint64_t CR0_PE = 1u << 0;

struct CpuSnapshot {
    kvm_regs regs{};
    kvm_sregs sregs{};
    kvm_fpu fpu{};
    kvm_debugregs debug{};
    kvm_vcpu_events events{};
    kvm_mp_state mp{};
    bool long_mode() const { return sregs.efer & EFER_LMA; }
};

void get(int fd, unsigned long request, void* out, const char* name) {
    if (ioctl(fd, request, out) < 0) throw std::runtime_error(std::string(name) + ": " + std::strerror(errno));
}

CpuSnapshot snapshot(int fd) {
    CpuSnapshot s;
    get(fd, KVM_GET_REGS, &s.regs, "KVM_GET_REGS");
    get(fd, KVM_GET_SREGS, &s.sregs, "KVM_GET_SREGS");
    get(fd, KVM_GET_FPU, &s.fpu, "KVM_GET_FPU");
    get(fd, KVM_GET_DEBUGREGS, &s.debug, "KVM_GET_DEBUGREGS");
    get(fd, KVM_GET_VCPU_EVENTS, &s.events, "KVM_GET_VCPU_EVENTS");
    get(fd, KVM_GET_MP_STATE, &s.mp, "KVM_GET_MP_STATE");
    return s;
}

// The attribute word QEMU prints for a segment: descriptor bits 8..23.
uint32_t segment_flags(const kvm_segment& s) {
    return uint32_t(s.type) << 8 | uint32_t(s.s) << 12 | uint32_t(s.dpl) << 13 | uint32_t(s.present) << 15 |
           uint32_t(s.avl) << 20 | uint32_t(s.l) << 21 | uint32_t(s.db) << 22 | uint32_t(s.g) << 23;
}

std::string segment_type(const kvm_segment& s, bool long_mode) {
    static const char* const sys32[16] = {"Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16",
                                          "TaskGate", "IntGate16", "TrapGate16", "Reserved", "TSS32-avl",
                                          "Reserved", "TSS32-busy", "CallGate32", "Reserved", "IntGate32",
                                          "TrapGate32"};
    static const char* const sys64[16] = {"Reserved", "Reserved", "LDT", "Reserved", "Reserved",
                                          "Reserved", "Reserved", "Reserved", "Reserved", "TSS64-avl",
                                          "Reserved", "TSS64-busy", "CallGate64", "Reserved", "IntGate64",
                                          "TrapGate64"};
    if (!s.s) return (long_mode ? sys64 : sys32)[s.type & 15];
    bool code = s.type & 8;
    std::string name;
    if (code)
        name = s.l ? "CS64" : s.db ? "CS32" : "CS16";
    else
        name = s.db ? "DS  " : "DS16";
    name += code ? fmt::format(" [{}{}", s.type & 4 ? 'C' : '-', s.type & 2 ? 'R' : '-')
                 : fmt::format(" [{}{}", s.type & 4 ? 'E' : '-', s.type & 2 ? 'W' : '-');
    return name + (s.type & 1 ? "A]" : "-]");
}

std::string segment_line(const char* name, const kvm_segment& s, const CpuSnapshot& cpu) {
    bool lm = cpu.long_mode();
    std::string line = lm ? fmt::format("{:<3}={:04x} {:016x} {:08x} {:08x}", name, s.selector, s.base, s.limit,
                                        segment_flags(s))
                          : fmt::format("{:<3}={:04x} {:08x} {:08x} {:08x}", name, s.selector, uint32_t(s.base),
                                        s.limit, segment_flags(s));
    if ((cpu.sregs.cr0 & CR0_PE) && s.present)
        line += fmt::format(" DPL={} {}", unsigned(s.dpl), segment_type(s, lm));
    return line + "\n";
}

std::string flag_letters(uint64_t rflags) {
    const std::pair<uint64_t, char> bits[] = {{1u << 10, 'D'}, {1u << 11, 'O'}, {1u << 7, 'S'}, {1u << 6, 'Z'},
                                              {1u << 4, 'A'},  {1u << 2, 'P'},  {1u << 0, 'C'}};
    std::string out;
    for (auto [bit, letter] : bits) out += (rflags & bit) ? letter : '-';
    return out;
}

std::string general_registers(const CpuSnapshot& cpu) {
    const kvm_regs& r = cpu.regs;
    unsigned cpl = cpu.sregs.cs.dpl;
    unsigned shadow = cpu.events.interrupt.shadow ? 1 : 0;
    unsigned smm = cpu.events.smi.smm;
    unsigned halted = cpu.mp.mp_state == KVM_MP_STATE_HALTED ? 1 : 0;
    std::string tail = fmt::format(" [{}] CPL={} II={} A20=1 SMM={} HLT={}\n", flag_letters(r.rflags), cpl, shadow,
                                   smm, halted);
    if (!cpu.long_mode()) {
        auto w = [](uint64_t v) { return uint32_t(v); };
        return fmt::format("EAX={:08x} EBX={:08x} ECX={:08x} EDX={:08x}\n"
                           "ESI={:08x} EDI={:08x} EBP={:08x} ESP={:08x}\n"
                           "EIP={:08x} EFL={:08x}",
                           w(r.rax), w(r.rbx), w(r.rcx), w(r.rdx), w(r.rsi), w(r.rdi), w(r.rbp), w(r.rsp),
                           w(r.rip), w(r.rflags)) + tail;
    }
    return fmt::format("RAX={:016x} RBX={:016x} RCX={:016x} RDX={:016x}\n"
                       "RSI={:016x} RDI={:016x} RBP={:016x} RSP={:016x}\n"
                       "R8 ={:016x} R9 ={:016x} R10={:016x} R11={:016x}\n"
                       "R12={:016x} R13={:016x} R14={:016x} R15={:016x}\n"
                       "RIP={:016x} RFL={:08x}",
                       r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12,
                       r.r13, r.r14, r.r15, r.rip, r.rflags) + tail;
}

std::string system_registers(const CpuSnapshot& cpu) {
    const kvm_sregs& s = cpu.sregs;
    const kvm_debugregs& d = cpu.debug;
    if (cpu.long_mode())
        return fmt::format("GDT=     {:016x} {:08x}\nIDT=     {:016x} {:08x}\n"
                           "CR0={:08x} CR2={:016x} CR3={:016x} CR4={:08x}\n"
                           "DR0={:016x} DR1={:016x} DR2={:016x} DR3={:016x} \nDR6={:016x} DR7={:016x}\n"
                           "EFER={:016x}\n",
                           s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit, uint32_t(s.cr0), s.cr2, s.cr3,
                           uint32_t(s.cr4), d.db[0], d.db[1], d.db[2], d.db[3], d.dr6, d.dr7, s.efer);
    return fmt::format("GDT=     {:08x} {:08x}\nIDT=     {:08x} {:08x}\n"
                       "CR0={:08x} CR2={:08x} CR3={:08x} CR4={:08x}\n"
                       "DR0={:08x} DR1={:08x} DR2={:08x} DR3={:08x} \nDR6={:08x} DR7={:08x}\n"
                       "EFER={:016x}\n",
                       uint32_t(s.gdt.base), s.gdt.limit, uint32_t(s.idt.base), s.idt.limit, uint32_t(s.cr0),
                       uint32_t(s.cr2), uint32_t(s.cr3), uint32_t(s.cr4), uint32_t(d.db[0]), uint32_t(d.db[1]),
                       uint32_t(d.db[2]), uint32_t(d.db[3]), uint32_t(d.dr6), uint32_t(d.dr7), s.efer);
}

std::string fpu_registers(const CpuSnapshot& cpu) {
    const kvm_fpu& f = cpu.fpu;
    unsigned top = (f.fsw >> 11) & 7;
    std::string out = fmt::format("FCW={:04x} FSW={:04x} [ST={}] FTW={:02x} MXCSR={:08x}\n", f.fcw, f.fsw, top,
                                  unsigned(f.ftwx), f.mxcsr);
    for (unsigned i = 0; i < 8; ++i) {
        uint64_t mantissa;
        uint16_t exponent;
        std::memcpy(&mantissa, f.fpr[i], 8);
        std::memcpy(&exponent, f.fpr[i] + 8, 2);
        out += fmt::format("FPR{}={:016x} {:04x}{}", i, mantissa, exponent, (i & 1) ? "\n" : " ");
    }
    unsigned count = cpu.long_mode() ? 16 : 8;
    for (unsigned i = 0; i < count; ++i) {
        uint32_t w[4];
        std::memcpy(w, f.xmm[i], 16);
        out += fmt::format("XMM{:02}={:08x}{:08x}{:08x}{:08x}{}", i, w[3], w[2], w[1], w[0], (i & 1) ? "\n" : " ");
    }
    return out;
}

} // namespace

std::string dump_registers(int vcpu_fd) {
    CpuSnapshot cpu = snapshot(vcpu_fd);
    const kvm_sregs& s = cpu.sregs;
    std::string out = general_registers(cpu);
    const std::pair<const char*, const kvm_segment*> segments[] = {
        {"ES", &s.es}, {"CS", &s.cs}, {"SS", &s.ss}, {"DS", &s.ds}, {"FS", &s.fs},
        {"GS", &s.gs}, {"LDT", &s.ldt}, {"TR", &s.tr}};
    for (auto [name, seg] : segments) out += segment_line(name, *seg, cpu);
    return out + system_registers(cpu) + fpu_registers(cpu);
}

std::optional<uint64_t> translate_virtual(int vcpu_fd, uint64_t gva) {
    kvm_translation t{};
    t.linear_address = gva;
    if (ioctl(vcpu_fd, KVM_TRANSLATE, &t) < 0 || !t.valid) return std::nullopt;
    return t.physical_address;
}

} // namespace kestrel
