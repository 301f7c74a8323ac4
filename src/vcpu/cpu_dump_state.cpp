#include "vcpu/cpu_dump_state.h"

#include "kvm/kvm_abi.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>

namespace kestrel {

namespace {

constexpr uint32_t MSR_KERNEL_GS_BASE = 0xc0000102;
constexpr uint64_t EFER_LMA = 1u << 10;

void get(int fd, unsigned long request, void* out, const char* name) {
    if (ioctl(fd, request, out) < 0) throw std::runtime_error(std::string(name) + ": " + std::strerror(errno));
}

DumpSegment segment(const kvm_segment& s) {
    uint32_t flags = uint32_t(s.type) << 8 | uint32_t(s.s) << 12 | uint32_t(s.dpl) << 13 |
                     uint32_t(s.present && !s.unusable) << 15 | uint32_t(s.avl) << 20 | uint32_t(s.l) << 21 |
                     uint32_t(s.db) << 22 | uint32_t(s.g) << 23;
    return {s.selector, s.limit, flags, s.base};
}

DumpSegment table(const kvm_dtable& t) { return {0, t.limit, 0, t.base}; }

uint64_t kernel_gs_base(int fd) {
    struct {
        kvm_msrs head;
        kvm_msr_entry entry;
    } msrs{};
    msrs.head.nmsrs = 1;
    msrs.entry.index = MSR_KERNEL_GS_BASE;
    if (ioctl(fd, KVM_GET_MSRS, &msrs) != 1) return 0;   // as QEMU keeps 0 where KVM has no value
    return msrs.entry.data;
}

} // namespace

CpuDumpState capture_dump_state(int fd) {
    kvm_regs r{};
    kvm_sregs s{};
    get(fd, KVM_GET_REGS, &r, "KVM_GET_REGS");
    get(fd, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
    CpuDumpState d;
    d.gpr = {r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
             r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
    d.rip = r.rip;
    d.rflags = r.rflags;
    d.es = segment(s.es);
    d.cs = segment(s.cs);
    d.ss = segment(s.ss);
    d.ds = segment(s.ds);
    d.fs = segment(s.fs);
    d.gs = segment(s.gs);
    d.ldt = segment(s.ldt);
    d.tr = segment(s.tr);
    d.gdt = table(s.gdt);
    d.idt = table(s.idt);
    d.cr = {s.cr0, 0, s.cr2, s.cr3, s.cr4};
    d.kernel_gs_base = kernel_gs_base(fd);
    d.long_mode = s.efer & EFER_LMA;
    return d;
}

} // namespace kestrel
