#include "vcpu/cpuid.h"

#include "vcpu/topology.h"
#include "vcpu/cpu_models.h"

#include <algorithm>
#include <cpuid.h>
#include <cstring>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace kestrel {
namespace {

using Entries = std::vector<kvm_cpuid_entry2>;

kvm_cpuid_entry2* find(Entries& e, uint32_t leaf, uint32_t index = 0) {
    return const_cast<kvm_cpuid_entry2*>(find_cpuid_leaf(e, leaf, index));
}

uint32_t& reg_of(kvm_cpuid_entry2& e, CpuidReg r) {
    switch (r) {
    case CpuidReg::Eax: return e.eax;
    case CpuidReg::Ebx: return e.ebx;
    case CpuidReg::Ecx: return e.ecx;
    default: return e.edx;
    }
}

void set_vendor(kvm_cpuid_entry2& e, std::string_view vendor) {
    std::memcpy(&e.ebx, vendor.data(), 4);
    std::memcpy(&e.edx, vendor.data() + 4, 4);
    std::memcpy(&e.ecx, vendor.data() + 8, 4);
}

uint32_t family_model_stepping(const CpuModel& m) {
    uint32_t base_family = m.family > 15 ? 15 : m.family;
    uint32_t ext_family = m.family > 15 ? m.family - 15 : 0;
    return m.stepping | (m.model & 0xf) << 4 | base_family << 8 | ((m.model >> 4) & 0xf) << 16 |
           ext_family << 20;
}

void set_brand(Entries& e, std::string_view brand) {
    char text[48] = {};
    std::memcpy(text, brand.data(), std::min<size_t>(brand.size(), 47));
    for (uint32_t i = 0; i < 3; ++i) {
        if (auto* x = find(e, 0x80000002 + i)) std::memcpy(&x->eax, text + 16 * i, 16);
    }
}

// The host CPU's brand string, read with CPUID as QEMU does for host and
// max (KVM's supported table may hold zeros there, as this project's
// paravirtual KVM does); a named model replaces it with its own.
void set_host_brand(Entries& e) {
    const auto* x0 = find(e, 0x80000000);
    unsigned eax, ebx, ecx, edx;
    if (!x0 || x0->eax < 0x80000004 || !__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) || eax < 0x80000004) return;
    for (uint32_t leaf = 0x80000002; leaf <= 0x80000004; ++leaf) {
        kvm_cpuid_entry2* x = find(e, leaf);
        if (!x) {
            e.push_back(kvm_cpuid_entry2{});
            x = &e.back();
            x->function = leaf;
        }
        __get_cpuid(leaf, &x->eax, &x->ebx, &x->ecx, &x->edx);
    }
}

bool kept_by_named_model(uint32_t leaf, bool xsave, uint32_t level, uint32_t xlevel) {
    if (leaf >= 0x40000000 && leaf <= 0x400000ff) return true;
    if (leaf >= 0x80000000) return leaf <= xlevel && leaf != 0x8000000a;
    if (leaf > level) return false;
    return leaf == 0 || leaf == 1 || leaf == 4 || leaf == 7 || leaf == 0xb || (leaf == 0xd && xsave);
}

void apply_named_model(Entries& e, const CpuModel& m) {
    auto* l0 = find(e, 0);
    auto* x0 = find(e, 0x80000000);
    auto* l1 = find(e, 1);
    auto* x1 = find(e, 0x80000001);
    if (!l0 || !l1 || !x0 || !x1) throw std::runtime_error("KVM reports no basic CPUID leaves");
    // The model's levels, as QEMU's (not the host's: a leaf KVM lacks reads as zeros).
    uint32_t level = m.level, xlevel = m.xlevel;
    l0->eax = level;
    x0->eax = xlevel;
    // Under KVM QEMU gives a named model the host's vendor (sysenter and
    // syscall in compatibility mode work on that vendor only); the
    // extended leaf carries it too.
    x0->ebx = l0->ebx, x0->ecx = l0->ecx, x0->edx = l0->edx;
    l1->eax = family_model_stepping(m);
    l1->edx &= m.leaf1_edx;
    l1->ecx &= m.leaf1_ecx | (1u << 21) /*x2apic*/ | (1u << 31) /*hypervisor*/;
    x1->eax = l1->eax;
    x1->edx &= m.ext1_edx;
    x1->ecx &= m.ext1_ecx;
    // A named model has none of the structured-extended (leaf 7, every
    // sub-leaf) or AMD power/capacity feature flags.
    for (auto& x : e)
        if (x.function == 7) x.eax = x.ebx = x.ecx = x.edx = 0;
    if (auto* apm = find(e, 0x80000007)) apm->edx = 0;
    if (auto* x8 = find(e, 0x80000008)) x8->ebx = 0;
    if (auto* kvm = find(e, 0x40000001)) kvm->eax &= default_kvm_pv_features();
    bool xsave = l1->ecx & (1u << 26);
    std::erase_if(e, [&](const kvm_cpuid_entry2& x) { return !kept_by_named_model(x.function, xsave, level, xlevel); });
    set_brand(e, m.model_id);
}

// -cpu host/max: migratable=on (QEMU's default) hides what cannot move
// with the guest to another host: the invariant TSC (QEMU's one
// unmigratable x86 flag). migratable=off passes it through.
void apply_migratable(Entries& e, const CpuConfig& cpu) {
    bool migratable = true;
    for (const auto& [name, enable] : cpu.features)
        if (name == "migratable") migratable = enable;
    if (auto* apm = find(e, 0x80000007); apm && migratable) apm->edx &= ~(1u << 8);
}

// What QEMU's host and max never turn on by themselves, only when asked
// (+topoext): AMD's topology extensions, which need cache topology leaves
// that agree with -smp.
void drop_unrequested_features(Entries& e) {
    constexpr uint32_t TOPOEXT = 1u << 22;
    if (auto* ext = find(e, 0x80000001)) ext->ecx &= ~TOPOEXT;
}

void apply_user_features(Entries& e, const CpuConfig& cpu, const Entries& supported) {
    for (const auto& [name, enable] : cpu.features) {
        if (name == "migratable") continue;  // apply_migratable
        const FeatureBit* f = find_feature(name);
        if (!f) {  // a QEMU flag or property (pmu, enforce, ...) kestrel does not model
            spdlog::warn("CPU feature '{}' is not modelled by kestrel; ignored", name);
            continue;
        }
        auto* entry = find(e, f->leaf, f->subleaf);
        auto* host = find(const_cast<Entries&>(supported), f->leaf, f->subleaf);
        uint32_t mask = 1u << f->bit;
        if (!entry) continue;
        if (!enable) {
            reg_of(*entry, f->reg) &= ~mask;
        } else if (host && (reg_of(*host, f->reg) & mask)) {
            reg_of(*entry, f->reg) |= mask;
        } else {
            spdlog::warn("host doesn't support requested feature: {}", name);
        }
    }
}

kvm_cpuid_entry2 leaf_0b(uint32_t index, uint32_t shift, uint32_t count, uint32_t type, uint32_t apic) {
    kvm_cpuid_entry2 x{};
    x.function = 0xb;
    x.index = index;
    x.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    x.eax = shift;
    x.ebx = count;
    x.ecx = index | type << 8;
    x.edx = apic;
    return x;
}

void apply_topology(Entries& e, const SmpConfig& smp, unsigned cpu_index) {
    uint32_t apic = apic_id_for(cpu_index, smp);
    unsigned tbits = topo_bits(smp.threads), cbits = topo_bits(smp.cores) + topo_bits(smp.dies);
    unsigned per_package = smp.threads * smp.cores * smp.dies;
    if (auto* l1 = find(e, 1)) {
        l1->ebx = apic << 24 | std::min(per_package, 255u) << 16 | 8u << 8;
        if (per_package > 1) l1->edx |= 1u << 28;  // HTT: more than one logical CPU per package
        else l1->edx &= ~(1u << 28);
    }
    for (auto& x : e) {
        if (x.function != 4 || (x.eax & 0x1f) == 0) continue;
        unsigned cache_level = (x.eax >> 5) & 7;
        uint32_t sharing = cache_level >= 3 ? (1u << (tbits + cbits)) - 1 : (1u << tbits) - 1;
        x.eax = (x.eax & 0x3fff) | sharing << 14 | ((1u << cbits) - 1) << 26;
    }
    bool has_0b = find(e, 0xb) != nullptr;
    std::erase_if(e, [](const kvm_cpuid_entry2& x) { return x.function == 0xb || x.function == 0x1f; });
    if (has_0b) {
        e.push_back(leaf_0b(0, tbits, smp.threads, 1, apic));
        e.push_back(leaf_0b(1, tbits + cbits, smp.threads * smp.cores * smp.dies, 2, apic));
        e.push_back(leaf_0b(2, 0, 0, 0, apic));
    }
    if (auto* x8 = find(e, 0x80000008)) x8->ecx = (per_package - 1) | (tbits + cbits) << 12;
}

} // namespace

void add_vmm_features(Entries& supported, bool tsc_deadline) {
    auto set = [&](std::string_view name) {
        const FeatureBit* f = find_feature(name);
        if (auto* entry = find(supported, f->leaf, f->subleaf)) reg_of(*entry, f->reg) |= 1u << f->bit;
    };
    set("hypervisor");
    if (tsc_deadline) set("tsc-deadline");
}

void validate_cpu_config(const CpuConfig& cpu) {
    if (!find_cpu_model(cpu.model))
        throw std::runtime_error("unable to find CPU model '" + cpu.model + "'");
}

Entries build_cpuid(const Entries& supported, const CpuConfig& cpu, const SmpConfig& smp, unsigned cpu_index) {
    validate_cpu_config(cpu);
    const CpuModel* model = find_cpu_model(cpu.model);
    Entries e = supported;
    if (!model->passthrough) apply_named_model(e, *model);
    else {
        apply_migratable(e, cpu);
        drop_unrequested_features(e);
    }
    apply_user_features(e, cpu, supported);
    apply_topology(e, smp, cpu_index);
    return e;
}

Entries vmm_supported_cpuid(const KvmSystem& kvm) {
    Entries supported = kvm.supported_cpuid();
    add_vmm_features(supported, kvm.check_extension(KVM_CAP_TSC_DEADLINE_TIMER) > 0);
    set_host_brand(supported);
    return supported;
}

// A host with every bit of the leaves a named model keeps: the model's
// own definition comes out of build_cpuid unfiltered.
Entries every_feature_host(const Entries& supported, const CpuModel& model) {
    Entries host;
    for (uint32_t leaf : {0u, 1u, 6u, 7u, 0xdu, 0x40000000u, 0x40000001u, 0x80000000u, 0x80000001u, 0x80000002u,
                          0x80000003u, 0x80000004u, 0x80000007u, 0x80000008u}) {
        for (uint32_t index = 0; index < ((leaf == 7 || leaf == 0xd) ? 2u : 1u); ++index) {
            kvm_cpuid_entry2 x{};
            x.function = leaf;
            x.index = index;
            x.eax = x.ebx = x.ecx = x.edx = ~0u;
            host.push_back(x);
        }
    }
    if (const auto* l0 = find_cpuid_leaf(supported, 0)) host[0].ebx = l0->ebx, host[0].ecx = l0->ecx, host[0].edx = l0->edx;
    else set_vendor(host[0], model.vendor);  // no KVM: the model's own vendor, as QEMU's TCG
    return host;
}

Entries requested_cpuid(const Entries& supported, const CpuConfig& config) {
    validate_cpu_config(config);
    // Only flags kestrel models change the table; the others are warned
    // about once, when the vCPUs are built.
    CpuConfig cpu = config;
    std::erase_if(cpu.features, [](const auto& f) { return f.first != "migratable" && !find_feature(f.first); });
    const CpuModel* model = find_cpu_model(cpu.model);
    if (!model->passthrough) return build_cpuid(every_feature_host(supported, *model), cpu, SmpConfig{}, 0);
    Entries wanted = supported;
    for (const auto& [name, enable] : cpu.features) {
        const FeatureBit* f = find_feature(name);
        kvm_cpuid_entry2* entry = f && enable ? find(wanted, f->leaf, f->subleaf) : nullptr;
        if (entry) reg_of(*entry, f->reg) |= 1u << f->bit;
    }
    return build_cpuid(wanted, cpu, SmpConfig{}, 0);
}

const kvm_cpuid_entry2* find_cpuid_leaf(const std::vector<kvm_cpuid_entry2>& table, uint32_t leaf, uint32_t index) {
    for (const kvm_cpuid_entry2& x : table)
        if (x.function == leaf && x.index == index) return &x;
    return nullptr;
}

} // namespace kestrel
