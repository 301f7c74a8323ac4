#pragma once
// Named CPU models (-cpu) and feature flag names (+feat/-feat), as facts
// from the Intel SDM / AMD APM and QEMU's documented model definitions.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel {

enum class CpuidReg { Eax, Ebx, Ecx, Edx };

struct FeatureBit {
    std::string_view name;
    uint32_t leaf;
    uint32_t subleaf;
    CpuidReg reg;
    unsigned bit;
};

struct CpuModel {
    std::string_view name;
    std::string_view description;
    bool passthrough;           // host/max: everything KVM supports
    std::string_view vendor;    // 12 chars, used without KVM only (KVM: the host's, as QEMU)
    unsigned family, model, stepping;
    uint32_t level, xlevel;
    uint32_t leaf1_edx, leaf1_ecx, ext1_edx, ext1_ecx;
    std::string_view model_id;  // brand string
};

const std::vector<CpuModel>& cpu_models();
const CpuModel* find_cpu_model(std::string_view name);
const FeatureBit* find_feature(std::string_view name);
// Every flag kestrel knows the CPUID bit of, QEMU's spellings and aliases
// (several names may share a bit: "pni" and "sse3").
std::span<const FeatureBit> feature_bits();
// KVM paravirtual features (leaf 0x40000001 EAX) QEMU enables by default.
uint32_t default_kvm_pv_features();

} // namespace kestrel
