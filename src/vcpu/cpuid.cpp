#include "vcpu/cpuid.h"

#include "vcpu/topology.h"
#include "vcpu/cpu_models.h"

#include <algorithm>
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
    uint32_t level = std::min(m.level, l0->eax), xlevel = std::min(m.xlevel, x0->eax);
    l0->eax = level;
    x0->eax = xlevel;
    set_vendor(*l0, m.vendor);
    set_vendor(*x0, m.vendor);
    l1->eax = family_model_stepping(m);
    l1->edx &= m.leaf1_edx;
    l1->ecx &= m.leaf1_ecx | (1u << 21) /*x2apic*/ | (1u << 31) /*hypervisor*/;
    x1->eax = l1->eax;
    x1->edx &= m.ext1_edx;
    x1->ecx &= m.ext1_ecx;
    if (auto* l7 = find(e, 7)) l7->eax = l7->ebx = l7->ecx = l7->edx = 0;
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
    else apply_migratable(e, cpu);
    apply_user_features(e, cpu, supported);
    apply_topology(e, smp, cpu_index);
    return e;
}

const kvm_cpuid_entry2* find_cpuid_leaf(const std::vector<kvm_cpuid_entry2>& table, uint32_t leaf, uint32_t index) {
    for (const kvm_cpuid_entry2& x : table)
        if (x.function == leaf && x.index == index) return &x;
    return nullptr;
}

} // namespace kestrel
