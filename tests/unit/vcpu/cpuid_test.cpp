#include "vcpu/cpuid.h"
#include "vcpu/fake_cpuid_leaf.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

using namespace kestrel;

namespace {

// A small host as KVM_GET_SUPPORTED_CPUID describes it: Intel, leaf 0xb
// present, SSE4.2 and AVX, all the KVM paravirtual features; no hypervisor
// or TSC-deadline bits, as KVM reports them.
std::vector<kvm_cpuid_entry2> fake_host() {
    return {cpuid_leaf(0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
            cpuid_leaf(1, 0, 0x906ea, 0, 0x7efafbff, 0xbfebfbff),
            cpuid_leaf(7, 0, 0, 0x209c01a9, 0, 0),
            cpuid_leaf(0xb, 0, 1, 2, 0x100, 0),
            cpuid_leaf(0x40000000, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
            cpuid_leaf(0x40000001, 0, 0x01007afb, 0, 0, 0),
            cpuid_leaf(0x80000000, 0, 0x80000008, 0, 0, 0),
            cpuid_leaf(0x80000001, 0, 0, 0, 0x121, 0x2c100800),
            cpuid_leaf(0x80000008, 0, 0x3027, 0, 0, 0)};
}

const kvm_cpuid_entry2* find(const std::vector<kvm_cpuid_entry2>& e, uint32_t fn, uint32_t idx = 0) {
    for (const auto& x : e)
        if (x.function == fn && x.index == idx) return &x;
    return nullptr;
}

std::string vendor(const kvm_cpuid_entry2& l0) {
    char v[13] = {};
    std::memcpy(v, &l0.ebx, 4);
    std::memcpy(v + 4, &l0.edx, 4);
    std::memcpy(v + 8, &l0.ecx, 4);
    return v;
}

constexpr uint32_t HYPERVISOR = 1u << 31, TSC_DEADLINE = 1u << 24, X2APIC = 1u << 21, AVX = 1u << 28;

} // namespace

TEST_CASE("add_vmm_features sets the hypervisor bit, TSC deadline only when KVM has it") {
    auto host = fake_host();
    host[1].ecx &= ~(HYPERVISOR | TSC_DEADLINE);
    add_vmm_features(host, false);
    CHECK((host[1].ecx & HYPERVISOR) != 0);
    CHECK((host[1].ecx & TSC_DEADLINE) == 0);
    add_vmm_features(host, true);
    CHECK((host[1].ecx & TSC_DEADLINE) != 0);
}

TEST_CASE("qemu64 is a family 15 CPU of the host's vendor that still shows the hypervisor and its KVM leaves") {
    auto host = fake_host();
    add_vmm_features(host, true);
    auto e = build_cpuid(host, CpuConfig{}, SmpConfig{}, 0);
    CHECK(vendor(*find(e, 0)) == "GenuineIntel");  // QEMU under KVM: the host's, not qemu64's AMD
    CHECK(find(e, 0)->eax == 0xd);
    CHECK(((find(e, 1)->eax >> 8) & 0xf) == 15);
    uint32_t ecx = find(e, 1)->ecx;
    CHECK((ecx & HYPERVISOR) != 0);
    CHECK((ecx & X2APIC) != 0);
    CHECK((ecx & AVX) == 0);
    CHECK((ecx & TSC_DEADLINE) == 0);
    REQUIRE(find(e, 0x40000000) != nullptr);
    CHECK((find(e, 0x40000001)->eax & 1) == 1);          // kvmclock
    CHECK((find(e, 0x40000001)->eax & (1u << 7)) == 0);  // pv-unhalt is not a default
    CHECK(find(e, 7)->ebx == 0);
}

TEST_CASE("-cpu host passes the host through with the VMM's features") {
    auto host = fake_host();
    add_vmm_features(host, true);
    CpuConfig cpu;
    cpu.model = "host";
    auto e = build_cpuid(host, cpu, SmpConfig{}, 0);
    CHECK(vendor(*find(e, 0)) == "GenuineIntel");
    CHECK((find(e, 1)->ecx & (HYPERVISOR | TSC_DEADLINE | AVX)) == (HYPERVISOR | TSC_DEADLINE | AVX));
    CHECK(find(e, 7)->ebx == 0x209c01a9);
}

TEST_CASE("-cpu host hides the invariant TSC unless migratable=off, as QEMU does") {
    auto host = fake_host();
    host.push_back(cpuid_leaf(0x80000007, 0, 0, 0, 0, 1u << 8));
    CpuConfig cpu;
    cpu.model = "host";
    CHECK(find(build_cpuid(host, cpu, SmpConfig{}, 0), 0x80000007)->edx == 0);
    cpu.features = {{"migratable", true}};
    CHECK(find(build_cpuid(host, cpu, SmpConfig{}, 0), 0x80000007)->edx == 0);
    cpu.features = {{"migratable", false}};
    CHECK(find(build_cpuid(host, cpu, SmpConfig{}, 0), 0x80000007)->edx == 1u << 8);
}

TEST_CASE("-cpu host and max leave topoext off unless +topoext asks for it, as QEMU does") {
    auto host = fake_host();
    constexpr uint32_t TOPOEXT = 1u << 22, OSVW = 1u << 9;
    for (auto& x : host)
        if (x.function == 0x80000001) x.ecx |= TOPOEXT | OSVW;
    for (const char* model : {"host", "max"}) {
        CpuConfig cpu;
        cpu.model = model;
        uint32_t ecx = find(build_cpuid(host, cpu, SmpConfig{}, 0), 0x80000001)->ecx;
        CHECK((ecx & TOPOEXT) == 0);
        CHECK((ecx & OSVW) != 0);
        cpu.features = {{"topoext", true}};
        CHECK((find(build_cpuid(host, cpu, SmpConfig{}, 0), 0x80000001)->ecx & TOPOEXT) != 0);
    }
}

TEST_CASE("-feat removes a bit, +feat adds one only when the host has it") {
    auto host = fake_host();
    add_vmm_features(host, false);
    CpuConfig cpu;
    cpu.features = {{"hypervisor", false}, {"sse4.2", true}, {"tsc-deadline", true}};
    auto e = build_cpuid(host, cpu, SmpConfig{}, 0);
    uint32_t ecx = find(e, 1)->ecx;
    CHECK((ecx & HYPERVISOR) == 0);
    CHECK((ecx & (1u << 20)) != 0);
    CHECK((ecx & TSC_DEADLINE) == 0);
}

TEST_CASE("topology leaves place each vCPU by socket and core") {
    auto host = fake_host();
    SmpConfig smp;
    smp.cpus = smp.maxcpus = 4;
    smp.sockets = 2;
    smp.cores = 2;
    auto e = build_cpuid(host, CpuConfig{"host", {}}, smp, 3);
    CHECK(find(e, 1)->ebx >> 24 == 3);                // initial APIC ID
    CHECK(((find(e, 1)->ebx >> 16) & 0xff) == 2);     // logical CPUs per package
    CHECK((find(e, 1)->edx & (1u << 28)) != 0);       // HTT
    REQUIRE(find(e, 0xb, 1) != nullptr);
    CHECK(find(e, 0xb, 0)->ebx == 1);                 // one thread per core
    CHECK(find(e, 0xb, 1)->eax == 1);                 // shift to the package ID
    CHECK(find(e, 0xb, 1)->ebx == 2);
    CHECK(find(e, 0xb, 1)->edx == 3);
    CHECK((find(e, 0x80000008)->ecx & 0xff) == 1);
}

TEST_CASE("an unknown CPU model is refused with QEMU's words") {
    CpuConfig cpu;
    cpu.model = "pentium9";
    CHECK_THROWS_WITH(validate_cpu_config(cpu), "unable to find CPU model 'pentium9'");
}
