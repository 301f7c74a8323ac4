#include "vcpu/boot_state.h"

#include "kvm/pc_memory_map.h"

#include <cerrno>
#include <cstring>
#include "kvm/kvm_abi.h"
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <vector>

namespace kestrel {
namespace {

[[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

constexpr uint64_t GDT_CODE64 = 0x00af9b000000ffffull;
constexpr uint64_t GDT_DATA = 0x00cf93000000ffffull;
constexpr uint64_t GDT_TSS = 0x00008b0000000fffull;
constexpr uint64_t GDT_CODE32 = 0x00cf9b000000ffffull;
constexpr uint64_t GDT_TSS32 = 0x00008b0000000067ull;
constexpr uint16_t BOOT_CS = 0x10, BOOT_DS = 0x18, BOOT_TSS = 0x20;

constexpr uint64_t CR0_PE = 1, CR0_ET = 1 << 4, CR0_NE = 1 << 5, CR0_PG = 1ull << 31;
constexpr uint64_t CR4_PAE = 1 << 5;
constexpr uint64_t EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

kvm_segment segment_from(uint64_t desc, uint16_t selector) {
    kvm_segment s{};
    s.base = ((desc >> 16) & 0xffffff) | ((desc >> 32) & 0xff000000);
    uint32_t limit = uint32_t((desc & 0xffff) | ((desc >> 32) & 0xf0000));
    s.g = (desc >> 55) & 1;
    s.limit = s.g ? (limit << 12) | 0xfff : limit;
    s.selector = selector;
    s.type = (desc >> 40) & 0xf;
    s.s = (desc >> 44) & 1;
    s.dpl = (desc >> 45) & 3;
    s.present = (desc >> 47) & 1;
    s.avl = (desc >> 52) & 1;
    s.l = (desc >> 53) & 1;
    s.db = (desc >> 54) & 1;
    return s;
}

// General registers at an entry point (RFLAGS 2: interrupts off) and the
// FPU at its reset state.
void set_entry_registers(int fd, const kvm_regs& entry) {
    kvm_regs regs = entry;
    regs.rflags = 2;
    regs.rsp = pc::BOOT_STACK;
    if (ioctl(fd, KVM_SET_REGS, &regs) < 0) fail("KVM_SET_REGS");
    kvm_fpu fpu{};
    fpu.fcw = 0x37f;
    fpu.mxcsr = 0x1f80;
    if (ioctl(fd, KVM_SET_FPU, &fpu) < 0) fail("KVM_SET_FPU");
}

} // namespace

void write_long_mode_tables(const GuestMemory& memory) {
    const uint64_t gdt[] = {0, 0, GDT_CODE64, GDT_DATA, GDT_TSS};
    memory.write_obj(pc::GDT_ADDR, gdt);
    memory.write_obj(pc::PML4_ADDR, uint64_t(pc::PDPT_ADDR | 0x3));
    for (uint64_t gib = 0; gib < 4; ++gib) {
        uint64_t pd = pc::PD_ADDR + gib * 0x1000;
        memory.write_obj(pc::PDPT_ADDR + gib * 8, uint64_t(pd | 0x3));
        for (uint64_t i = 0; i < 512; ++i) {
            uint64_t addr = (gib << 30) | (i << 21);
            memory.write_obj(pd + i * 8, uint64_t(addr | 0x83));  // present, writable, 2 MiB
        }
    }
}

void set_long_mode_registers(int fd, const LongModeEntry& entry) {
    kvm_sregs sregs{};
    if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0) fail("KVM_GET_SREGS");
    kvm_segment code = segment_from(GDT_CODE64, BOOT_CS);
    kvm_segment data = segment_from(GDT_DATA, BOOT_DS);
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.tr = segment_from(GDT_TSS, BOOT_TSS);
    sregs.gdt.base = pc::GDT_ADDR;
    sregs.gdt.limit = 5 * 8 - 1;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr3 = pc::PML4_ADDR;
    sregs.cr4 = CR4_PAE;
    sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
    sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) fail("KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = entry.rip;
    regs.rsi = entry.rsi;
    set_entry_registers(fd, regs);
}

void write_protected_mode_gdt(const GuestMemory& memory) {
    const uint64_t gdt[] = {0, 0, GDT_CODE32, GDT_DATA, GDT_TSS32};
    memory.write_obj(pc::GDT_ADDR, gdt);
}

void set_protected_mode_registers(int fd, const ProtectedModeEntry& entry) {
    kvm_sregs sregs{};
    if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0) fail("KVM_GET_SREGS");
    sregs.cs = segment_from(GDT_CODE32, BOOT_CS);
    kvm_segment data = segment_from(GDT_DATA, BOOT_DS);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.tr = segment_from(GDT_TSS32, BOOT_TSS);
    sregs.gdt.base = pc::GDT_ADDR;
    sregs.gdt.limit = 5 * 8 - 1;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr0 = CR0_PE | CR0_ET;
    sregs.cr3 = 0;
    sregs.cr4 = 0;
    sregs.efer = 0;
    if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) fail("KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = entry.eip;
    regs.rax = entry.eax;
    regs.rbx = entry.ebx;
    set_entry_registers(fd, regs);
}

void set_lapic_virtual_wire(int fd) {
    constexpr unsigned LVT_LINT0 = 0x350, LVT_LINT1 = 0x360;
    constexpr uint32_t MODE_EXTINT = 7 << 8, MODE_NMI = 4 << 8, MODE_MASK = 7 << 8;
    kvm_lapic_state lapic{};
    if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0) fail("KVM_GET_LAPIC");
    auto patch = [&](unsigned reg, uint32_t mode) {
        uint32_t v;
        std::memcpy(&v, lapic.regs + reg, 4);
        v = (v & ~MODE_MASK & ~(1u << 16)) | mode;
        std::memcpy(lapic.regs + reg, &v, 4);
    };
    patch(LVT_LINT0, MODE_EXTINT);
    patch(LVT_LINT1, MODE_NMI);
    if (ioctl(fd, KVM_SET_LAPIC, &lapic) < 0) fail("KVM_SET_LAPIC");
}

void set_reset_msrs(int fd, const KvmSystem& kvm, const std::vector<MsrValue>& unlisted) {
    struct Msr {
        uint32_t index;
        uint64_t value;
    };
    const Msr wanted[] = {
        {0x174, 0}, {0x175, 0}, {0x176, 0},            // SYSENTER CS/ESP/EIP
        {0xc0000081, 0}, {0xc0000082, 0}, {0xc0000083, 0}, {0xc0000084, 0}, {0xc0000102, 0},
        {0x10, 0},                                      // TSC
        {0x1a0, 1},                                     // MISC_ENABLE: fast strings
        {0x4b564d00, 0}, {0x4b564d01, 0},               // kvmclock wall clock / system time
        {0x4b564d02, 0}, {0x4b564d03, 0}, {0x4b564d04, 0},  // async PF, steal time, PV EOI
        {0x11, 0}, {0x12, 0},                           // old kvmclock MSRs
    };
    std::vector<uint8_t> buf(sizeof(kvm_msrs) + (std::size(wanted) + unlisted.size()) * sizeof(kvm_msr_entry));
    auto* msrs = reinterpret_cast<kvm_msrs*>(buf.data());
    for (const auto& m : wanted) {
        if (!kvm.msr_settable(m.index)) continue;
        kvm_msr_entry& e = msrs->entries[msrs->nmsrs++];
        e.index = m.index;
        e.data = m.value;
    }
    for (const MsrValue& m : unlisted) msrs->entries[msrs->nmsrs++] = {m.index, 0, m.value};
    int done = ioctl(fd, KVM_SET_MSRS, msrs);
    if (done < 0) fail("KVM_SET_MSRS");
    // KVM stops at the first MSR it refuses; carry on with the rest one by one.
    for (uint32_t i = uint32_t(done) + 1; i < msrs->nmsrs; ++i) {
        std::vector<uint8_t> one(sizeof(kvm_msrs) + sizeof(kvm_msr_entry));
        auto* single = reinterpret_cast<kvm_msrs*>(one.data());
        single->nmsrs = 1;
        single->entries[0] = msrs->entries[i];
        ioctl(fd, KVM_SET_MSRS, single);
    }
}

} // namespace kestrel
