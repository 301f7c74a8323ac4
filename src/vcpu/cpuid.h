#pragma once
// The CPUID table one vCPU sees: what KVM supports, filtered by the -cpu
// model and +feat/-feat, with topology leaves for its place in -smp.
#include "vcpu/cpu_config.h"

#include "kvm/kvm_abi.h"
#include "kvm/kvm_system.h"
#include <vector>

namespace kestrel {

// Throws std::runtime_error for an unknown model (feature names were
// checked by the parser against QEMU's list; unmodelled ones only warn).
void validate_cpu_config(const CpuConfig& cpu);

// KVM_GET_SUPPORTED_CPUID leaves out what only the VMM can promise: the
// "hypervisor" bit (without it Linux never looks for kvmclock and the other
// paravirtual leaves) and the TSC-deadline timer of the in-kernel LAPIC.
void add_vmm_features(std::vector<kvm_cpuid_entry2>& supported, bool tsc_deadline);

// What a vCPU can be given: KVM's supported CPUID plus add_vmm_features,
// with the host CPU's brand string (as QEMU's host and max).
std::vector<kvm_cpuid_entry2> vmm_supported_cpuid(const KvmSystem& kvm);

// The CPUID `cpu` asks for before KVM filters it (QEMU's model definition
// with +feat/-feat applied): a named model's own flags, or for host/max
// what KVM supports plus every +feat. Topology as for one vCPU.
std::vector<kvm_cpuid_entry2> requested_cpuid(const std::vector<kvm_cpuid_entry2>& supported, const CpuConfig& cpu);

// The entry of `leaf` (and sub-leaf `index`) in a CPUID table, or null.
const kvm_cpuid_entry2* find_cpuid_leaf(const std::vector<kvm_cpuid_entry2>& table, uint32_t leaf,
                                        uint32_t index = 0);

std::vector<kvm_cpuid_entry2> build_cpuid(const std::vector<kvm_cpuid_entry2>& supported,
                                          const CpuConfig& cpu, const SmpConfig& smp,
                                          unsigned cpu_index);

} // namespace kestrel
