#pragma once
// The CPUID table one vCPU sees: what KVM supports, filtered by the -cpu
// model and +feat/-feat, with topology leaves for its place in -smp.
#include "config/config.h"

#include "vcpu/kvm_abi.h"
#include <vector>

namespace kestrel {

// Throws std::runtime_error for an unknown model (feature names were
// checked by the parser against QEMU's list; unmodelled ones only warn).
void validate_cpu_config(const CpuConfig& cpu);

std::vector<kvm_cpuid_entry2> build_cpuid(const std::vector<kvm_cpuid_entry2>& supported,
                                          const CpuConfig& cpu, const SmpConfig& smp,
                                          unsigned cpu_index);

} // namespace kestrel
