#include "vcpu/cpu_models.h"

#include <algorithm>

namespace kestrel {
namespace {

constexpr uint32_t bit(unsigned n) { return 1u << n; }

// Leaf 1 EDX of a Pentium Pro-class CPU plus what QEMU's 64-bit models add.
constexpr uint32_t PPRO_EDX = bit(0) | bit(2) | bit(3) | bit(4) | bit(5) | bit(6) | bit(7) | bit(8) |
                              bit(9) | bit(11) | bit(13) | bit(15) | bit(16) | bit(23) | bit(24) |
                              bit(25) | bit(26);
constexpr uint32_t MODEL64_EDX = PPRO_EDX | bit(12) /*mtrr*/ | bit(19) /*clflush*/ | bit(14) /*mca*/ |
                                 bit(17) /*pse36*/;
constexpr uint32_t SSE3_CX16 = bit(0) | bit(13);
constexpr uint32_t LM_SYSCALL_NX = bit(29) | bit(11) | bit(20);

const FeatureBit FEATURES[] = {
    {"fpu", 1, 0, CpuidReg::Edx, 0},       {"vme", 1, 0, CpuidReg::Edx, 1},
    {"de", 1, 0, CpuidReg::Edx, 2},        {"pse", 1, 0, CpuidReg::Edx, 3},
    {"tsc", 1, 0, CpuidReg::Edx, 4},       {"msr", 1, 0, CpuidReg::Edx, 5},
    {"pae", 1, 0, CpuidReg::Edx, 6},       {"mce", 1, 0, CpuidReg::Edx, 7},
    {"cx8", 1, 0, CpuidReg::Edx, 8},       {"apic", 1, 0, CpuidReg::Edx, 9},
    {"sep", 1, 0, CpuidReg::Edx, 11},      {"mtrr", 1, 0, CpuidReg::Edx, 12},
    {"pge", 1, 0, CpuidReg::Edx, 13},      {"mca", 1, 0, CpuidReg::Edx, 14},
    {"cmov", 1, 0, CpuidReg::Edx, 15},     {"pat", 1, 0, CpuidReg::Edx, 16},
    {"pse36", 1, 0, CpuidReg::Edx, 17},    {"clflush", 1, 0, CpuidReg::Edx, 19},
    {"mmx", 1, 0, CpuidReg::Edx, 23},      {"fxsr", 1, 0, CpuidReg::Edx, 24},
    {"sse", 1, 0, CpuidReg::Edx, 25},      {"sse2", 1, 0, CpuidReg::Edx, 26},
    {"ss", 1, 0, CpuidReg::Edx, 27},       {"ht", 1, 0, CpuidReg::Edx, 28},
    {"pni", 1, 0, CpuidReg::Ecx, 0},       {"sse3", 1, 0, CpuidReg::Ecx, 0},
    {"pclmulqdq", 1, 0, CpuidReg::Ecx, 1}, {"monitor", 1, 0, CpuidReg::Ecx, 3},
    {"vmx", 1, 0, CpuidReg::Ecx, 5},       {"ssse3", 1, 0, CpuidReg::Ecx, 9},
    {"fma", 1, 0, CpuidReg::Ecx, 12},      {"cx16", 1, 0, CpuidReg::Ecx, 13},
    {"pdcm", 1, 0, CpuidReg::Ecx, 15},     {"pcid", 1, 0, CpuidReg::Ecx, 17},
    {"sse4.1", 1, 0, CpuidReg::Ecx, 19},   {"sse4_1", 1, 0, CpuidReg::Ecx, 19},
    {"sse4.2", 1, 0, CpuidReg::Ecx, 20},   {"sse4_2", 1, 0, CpuidReg::Ecx, 20},
    {"x2apic", 1, 0, CpuidReg::Ecx, 21},   {"movbe", 1, 0, CpuidReg::Ecx, 22},
    {"popcnt", 1, 0, CpuidReg::Ecx, 23},   {"tsc-deadline", 1, 0, CpuidReg::Ecx, 24},
    {"aes", 1, 0, CpuidReg::Ecx, 25},      {"xsave", 1, 0, CpuidReg::Ecx, 26},
    {"avx", 1, 0, CpuidReg::Ecx, 28},      {"f16c", 1, 0, CpuidReg::Ecx, 29},
    {"rdrand", 1, 0, CpuidReg::Ecx, 30},   {"hypervisor", 1, 0, CpuidReg::Ecx, 31},
    {"fsgsbase", 7, 0, CpuidReg::Ebx, 0},  {"bmi1", 7, 0, CpuidReg::Ebx, 3},
    {"hle", 7, 0, CpuidReg::Ebx, 4},       {"avx2", 7, 0, CpuidReg::Ebx, 5},
    {"smep", 7, 0, CpuidReg::Ebx, 7},      {"bmi2", 7, 0, CpuidReg::Ebx, 8},
    {"erms", 7, 0, CpuidReg::Ebx, 9},      {"invpcid", 7, 0, CpuidReg::Ebx, 10},
    {"rtm", 7, 0, CpuidReg::Ebx, 11},      {"avx512f", 7, 0, CpuidReg::Ebx, 16},
    {"rdseed", 7, 0, CpuidReg::Ebx, 18},   {"adx", 7, 0, CpuidReg::Ebx, 19},
    {"smap", 7, 0, CpuidReg::Ebx, 20},     {"clflushopt", 7, 0, CpuidReg::Ebx, 23},
    {"clwb", 7, 0, CpuidReg::Ebx, 24},     {"sha-ni", 7, 0, CpuidReg::Ebx, 29},
    {"umip", 7, 0, CpuidReg::Ecx, 2},      {"pku", 7, 0, CpuidReg::Ecx, 3},
    {"rdpid", 7, 0, CpuidReg::Ecx, 22},    {"spec-ctrl", 7, 0, CpuidReg::Edx, 26},
    {"arch-capabilities", 7, 0, CpuidReg::Edx, 29}, {"ssbd", 7, 0, CpuidReg::Edx, 31},
    {"syscall", 0x80000001, 0, CpuidReg::Edx, 11}, {"nx", 0x80000001, 0, CpuidReg::Edx, 20},
    {"xd", 0x80000001, 0, CpuidReg::Edx, 20},      {"mmxext", 0x80000001, 0, CpuidReg::Edx, 22},
    {"pdpe1gb", 0x80000001, 0, CpuidReg::Edx, 26}, {"rdtscp", 0x80000001, 0, CpuidReg::Edx, 27},
    {"lm", 0x80000001, 0, CpuidReg::Edx, 29},      {"lahf_lm", 0x80000001, 0, CpuidReg::Ecx, 0},
    {"lahf-lm", 0x80000001, 0, CpuidReg::Ecx, 0},  {"cmp-legacy", 0x80000001, 0, CpuidReg::Ecx, 1},
    {"svm", 0x80000001, 0, CpuidReg::Ecx, 2},      {"extapic", 0x80000001, 0, CpuidReg::Ecx, 3},
    {"cr8legacy", 0x80000001, 0, CpuidReg::Ecx, 4}, {"abm", 0x80000001, 0, CpuidReg::Ecx, 5},
    {"sse4a", 0x80000001, 0, CpuidReg::Ecx, 6},    {"misalignsse", 0x80000001, 0, CpuidReg::Ecx, 7},
    {"3dnowprefetch", 0x80000001, 0, CpuidReg::Ecx, 8}, {"topoext", 0x80000001, 0, CpuidReg::Ecx, 22},
    {"ds", 1, 0, CpuidReg::Edx, 21},       {"acpi", 1, 0, CpuidReg::Edx, 22},
    {"tm", 1, 0, CpuidReg::Edx, 29},       {"pbe", 1, 0, CpuidReg::Edx, 31},
    {"pn", 1, 0, CpuidReg::Edx, 18},       {"dtes64", 1, 0, CpuidReg::Ecx, 2},
    {"ds-cpl", 1, 0, CpuidReg::Ecx, 4},    {"smx", 1, 0, CpuidReg::Ecx, 6},
    {"est", 1, 0, CpuidReg::Ecx, 7},       {"tm2", 1, 0, CpuidReg::Ecx, 8},
    {"cid", 1, 0, CpuidReg::Ecx, 10},      {"xtpr", 1, 0, CpuidReg::Ecx, 14},
    {"dca", 1, 0, CpuidReg::Ecx, 18},      {"arat", 6, 0, CpuidReg::Eax, 2},
    {"tsc-adjust", 7, 0, CpuidReg::Ebx, 1}, {"sgx", 7, 0, CpuidReg::Ebx, 2},
    {"mpx", 7, 0, CpuidReg::Ebx, 14},      {"avx512dq", 7, 0, CpuidReg::Ebx, 17},
    {"avx512ifma", 7, 0, CpuidReg::Ebx, 21}, {"intel-pt", 7, 0, CpuidReg::Ebx, 25},
    {"avx512pf", 7, 0, CpuidReg::Ebx, 26}, {"avx512er", 7, 0, CpuidReg::Ebx, 27},
    {"avx512cd", 7, 0, CpuidReg::Ebx, 28}, {"avx512bw", 7, 0, CpuidReg::Ebx, 30},
    {"avx512vl", 7, 0, CpuidReg::Ebx, 31}, {"avx512vbmi", 7, 0, CpuidReg::Ecx, 1},
    {"waitpkg", 7, 0, CpuidReg::Ecx, 5},   {"avx512vbmi2", 7, 0, CpuidReg::Ecx, 6},
    {"gfni", 7, 0, CpuidReg::Ecx, 8},      {"vaes", 7, 0, CpuidReg::Ecx, 9},
    {"vpclmulqdq", 7, 0, CpuidReg::Ecx, 10}, {"avx512vnni", 7, 0, CpuidReg::Ecx, 11},
    {"avx512bitalg", 7, 0, CpuidReg::Ecx, 12}, {"avx512-vpopcntdq", 7, 0, CpuidReg::Ecx, 14},
    {"la57", 7, 0, CpuidReg::Ecx, 16},     {"bus-lock-detect", 7, 0, CpuidReg::Ecx, 24},
    {"cldemote", 7, 0, CpuidReg::Ecx, 25}, {"movdiri", 7, 0, CpuidReg::Ecx, 27},
    {"movdir64b", 7, 0, CpuidReg::Ecx, 28}, {"sgxlc", 7, 0, CpuidReg::Ecx, 30},
    {"pks", 7, 0, CpuidReg::Ecx, 31},      {"avx512-4vnniw", 7, 0, CpuidReg::Edx, 2},
    {"avx512-4fmaps", 7, 0, CpuidReg::Edx, 3}, {"fsrm", 7, 0, CpuidReg::Edx, 4},
    {"avx512-vp2intersect", 7, 0, CpuidReg::Edx, 8}, {"md-clear", 7, 0, CpuidReg::Edx, 10},
    {"serialize", 7, 0, CpuidReg::Edx, 14}, {"tsx-ldtrk", 7, 0, CpuidReg::Edx, 16},
    {"arch-lbr", 7, 0, CpuidReg::Edx, 19}, {"amx-bf16", 7, 0, CpuidReg::Edx, 22},
    {"avx512-fp16", 7, 0, CpuidReg::Edx, 23}, {"amx-tile", 7, 0, CpuidReg::Edx, 24},
    {"amx-int8", 7, 0, CpuidReg::Edx, 25}, {"stibp", 7, 0, CpuidReg::Edx, 27},
    {"core-capability", 7, 0, CpuidReg::Edx, 30}, {"avx-vnni", 7, 1, CpuidReg::Eax, 4},
    {"avx512-bf16", 7, 1, CpuidReg::Eax, 5}, {"xsaveopt", 0xd, 1, CpuidReg::Eax, 0},
    {"xsavec", 0xd, 1, CpuidReg::Eax, 1},  {"xgetbv1", 0xd, 1, CpuidReg::Eax, 2},
    {"xsaves", 0xd, 1, CpuidReg::Eax, 3},  {"xfd", 0xd, 1, CpuidReg::Eax, 4},
    {"fxsr-opt", 0x80000001, 0, CpuidReg::Edx, 25}, {"3dnowext", 0x80000001, 0, CpuidReg::Edx, 30},
    {"3dnow", 0x80000001, 0, CpuidReg::Edx, 31}, {"osvw", 0x80000001, 0, CpuidReg::Ecx, 9},
    {"ibs", 0x80000001, 0, CpuidReg::Ecx, 10},
    {"xop", 0x80000001, 0, CpuidReg::Ecx, 11}, {"skinit", 0x80000001, 0, CpuidReg::Ecx, 12},
    {"wdt", 0x80000001, 0, CpuidReg::Ecx, 13}, {"lwp", 0x80000001, 0, CpuidReg::Ecx, 15},
    {"fma4", 0x80000001, 0, CpuidReg::Ecx, 16}, {"tce", 0x80000001, 0, CpuidReg::Ecx, 17},
    {"nodeid-msr", 0x80000001, 0, CpuidReg::Ecx, 19}, {"tbm", 0x80000001, 0, CpuidReg::Ecx, 21},
    {"perfctr-core", 0x80000001, 0, CpuidReg::Ecx, 23}, {"perfctr-nb", 0x80000001, 0, CpuidReg::Ecx, 24},
    {"invtsc", 0x80000007, 0, CpuidReg::Edx, 8}, {"clzero", 0x80000008, 0, CpuidReg::Ebx, 0},
    {"xsaveerptr", 0x80000008, 0, CpuidReg::Ebx, 2}, {"wbnoinvd", 0x80000008, 0, CpuidReg::Ebx, 9},
    {"ibpb", 0x80000008, 0, CpuidReg::Ebx, 12}, {"ibrs", 0x80000008, 0, CpuidReg::Ebx, 14},
    {"amd-stibp", 0x80000008, 0, CpuidReg::Ebx, 15}, {"amd-ssbd", 0x80000008, 0, CpuidReg::Ebx, 24},
    {"virt-ssbd", 0x80000008, 0, CpuidReg::Ebx, 25}, {"amd-no-ssb", 0x80000008, 0, CpuidReg::Ebx, 26},
    {"kvmclock", 0x40000001, 0, CpuidReg::Eax, 0}, {"kvm-nopiodelay", 0x40000001, 0, CpuidReg::Eax, 1},
    {"kvm-mmu", 0x40000001, 0, CpuidReg::Eax, 2}, {"kvm-msi-ext-dest-id", 0x40000001, 0, CpuidReg::Eax, 15},
    {"kvm-asyncpf", 0x40000001, 0, CpuidReg::Eax, 4}, {"kvm-steal-time", 0x40000001, 0, CpuidReg::Eax, 5},
    {"kvm-pv-eoi", 0x40000001, 0, CpuidReg::Eax, 6}, {"kvm-pv-unhalt", 0x40000001, 0, CpuidReg::Eax, 7},
    {"kvm-pv-tlb-flush", 0x40000001, 0, CpuidReg::Eax, 9}, {"kvm-pv-ipi", 0x40000001, 0, CpuidReg::Eax, 11},
    {"kvm-poll-control", 0x40000001, 0, CpuidReg::Eax, 12}, {"kvm-pv-sched-yield", 0x40000001, 0, CpuidReg::Eax, 13},
    {"kvm-asyncpf-int", 0x40000001, 0, CpuidReg::Eax, 14}, {"kvmclock-stable-bit", 0x40000001, 0, CpuidReg::Eax, 24},
};

const std::vector<CpuModel> MODELS = {
    {"host", "KVM processor with all supported host features", true, "", 0, 0, 0, 0, 0, 0, 0, 0, 0, ""},
    {"max", "Enables all features supported by the accelerator in the current host", true, "", 0, 0, 0,
     0, 0, 0, 0, 0, 0, ""},
    {"qemu64", "QEMU Virtual CPU version 2.5+", false, "AuthenticAMD", 15, 107, 1, 0xd, 0x8000000a,
     MODEL64_EDX, SSE3_CX16, LM_SYSCALL_NX, bit(0) /*lahf_lm*/, "QEMU Virtual CPU version 2.5+"},
    {"kvm64", "Common KVM processor", false, "GenuineIntel", 15, 6, 1, 0xd, 0x80000008, MODEL64_EDX | bit(1) /*vme*/,
     SSE3_CX16, LM_SYSCALL_NX, 0, "Common KVM processor"},
};

} // namespace

const std::vector<CpuModel>& cpu_models() { return MODELS; }

// QEMU 7.2's versioned names: qemu64-v1 and kvm64-v1 are what the pc
// machine's qemu64 and kvm64 resolve to.
const CpuModel* find_cpu_model(std::string_view name) {
    if (name == "qemu64-v1" || name == "kvm64-v1") name.remove_suffix(3);
    auto it = std::find_if(MODELS.begin(), MODELS.end(), [&](const CpuModel& m) { return m.name == name; });
    return it == MODELS.end() ? nullptr : &*it;
}

std::span<const FeatureBit> feature_bits() { return FEATURES; }

const FeatureBit* find_feature(std::string_view name) {
    for (const auto& f : FEATURES)
        if (f.name == name) return &f;
    return nullptr;
}

uint32_t default_kvm_pv_features() {
    return bit(0) | bit(1) | bit(3) | bit(4) | bit(5) | bit(6) | bit(24);
}

} // namespace kestrel
