#include "vcpu/cpu_description.h"

#include "vcpu/cpuid.h"

#include <algorithm>
#include <cstring>

namespace kestrel {
namespace {

uint32_t reg_value(const kvm_cpuid_entry2& e, CpuidReg r) {
    switch (r) {
    case CpuidReg::Eax: return e.eax;
    case CpuidReg::Ebx: return e.ebx;
    case CpuidReg::Ecx: return e.ecx;
    default: return e.edx;
    }
}

std::string text_of(const char* bytes, size_t size) {
    return std::string(bytes, strnlen(bytes, size));
}

std::string brand(const std::vector<kvm_cpuid_entry2>& table) {
    char text[48] = {};
    for (uint32_t i = 0; i < 3; ++i)
        if (const auto* x = find_cpuid_leaf(table, 0x80000002 + i)) std::memcpy(text + 16 * i, &x->eax, 16);
    return text_of(text, sizeof text);
}

bool same_word(const FeatureWord& w, const FeatureBit& f) {
    return w.leaf == f.leaf && w.subleaf == f.subleaf && w.reg == f.reg;
}

} // namespace

std::string_view cpuid_register_name(CpuidReg reg) {
    switch (reg) {
    case CpuidReg::Eax: return "EAX";
    case CpuidReg::Ebx: return "EBX";
    case CpuidReg::Ecx: return "ECX";
    default: return "EDX";
    }
}

// As QEMU's family/model/stepping getters read CPUID.1:EAX.
CpuDescription describe_cpu(const std::vector<kvm_cpuid_entry2>& table) {
    CpuDescription d;
    if (const auto* l0 = find_cpuid_leaf(table, 0)) {
        char vendor[12];
        std::memcpy(vendor, &l0->ebx, 4);
        std::memcpy(vendor + 4, &l0->edx, 4);
        std::memcpy(vendor + 8, &l0->ecx, 4);
        d.vendor = text_of(vendor, sizeof vendor);
        d.level = l0->eax;
    }
    if (const auto* l1 = find_cpuid_leaf(table, 1)) {
        uint32_t eax = l1->eax;
        d.family = (eax >> 8) & 0xf;
        if (d.family == 0xf) d.family += (eax >> 20) & 0xff;
        d.model = ((eax >> 4) & 0xf) | ((eax >> 12) & 0xf0);
        d.stepping = eax & 0xf;
    }
    if (const auto* x0 = find_cpuid_leaf(table, 0x80000000)) d.xlevel = x0->eax;
    d.model_id = brand(table);
    return d;
}

bool has_feature(const std::vector<kvm_cpuid_entry2>& table, const FeatureBit& f) {
    const auto* e = find_cpuid_leaf(table, f.leaf, f.subleaf);
    return e && (reg_value(*e, f.reg) >> f.bit & 1u);
}

std::vector<FeatureWord> feature_words(const std::vector<kvm_cpuid_entry2>& table) {
    std::vector<FeatureWord> words;
    for (const FeatureBit& f : feature_bits()) {
        auto it = std::find_if(words.begin(), words.end(), [&](const FeatureWord& w) { return same_word(w, f); });
        if (it == words.end()) {
            words.push_back({f.leaf, f.subleaf, f.leaf == 7 || f.leaf == 0xd, f.reg, 0});
            it = words.end() - 1;
        }
        if (has_feature(table, f)) it->features |= 1u << f.bit;
    }
    return words;
}

std::vector<const FeatureBit*> filtered_features(const std::vector<kvm_cpuid_entry2>& requested,
                                                 const std::vector<kvm_cpuid_entry2>& actual) {
    std::vector<const FeatureBit*> out;
    for (const FeatureBit& f : feature_bits())
        if (has_feature(requested, f) && !has_feature(actual, f)) out.push_back(&f);
    return out;
}

} // namespace kestrel
