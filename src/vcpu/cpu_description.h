#pragma once
// What a CPUID table says about the CPU in QEMU's X86CPU property terms:
// vendor, family/model/stepping, model-id, levels, each named feature flag
// and the feature words. query-cpu-model-expansion and the vCPUs' QOM
// objects answer from it, so they report the CPUID a guest really gets.
#include "kvm/kvm_abi.h"
#include "vcpu/cpu_models.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {

struct CpuDescription {
    std::string vendor;    // leaf 0
    std::string model_id;  // the brand string, leaves 0x80000002-4
    unsigned family = 0, model = 0, stepping = 0;
    uint32_t level = 0, xlevel = 0;
};

CpuDescription describe_cpu(const std::vector<kvm_cpuid_entry2>& table);

// Whether the flag's bit is set (false when its leaf is absent).
bool has_feature(const std::vector<kvm_cpuid_entry2>& table, const FeatureBit& f);

// One CPUID register holding named flags (QEMU's X86CPUFeatureWordInfo);
// `features` keeps only the bits kestrel has names for.
struct FeatureWord {
    uint32_t leaf;
    uint32_t subleaf;
    bool indexed;  // a leaf with sub-leaves: QEMU reports cpuid-input-ecx
    CpuidReg reg;
    uint32_t features;
};

std::vector<FeatureWord> feature_words(const std::vector<kvm_cpuid_entry2>& table);

// The flags `requested` has and `actual` lacks (QEMU's filtered features):
// every spelling of each, in feature_bits() order.
std::vector<const FeatureBit*> filtered_features(const std::vector<kvm_cpuid_entry2>& requested,
                                                 const std::vector<kvm_cpuid_entry2>& actual);

std::string_view cpuid_register_name(CpuidReg reg);  // "EAX" ...

} // namespace kestrel
