#pragma once
// /dev/kvm: the API version check, capability queries and the host-wide
// lists a VM is configured from (supported CPUID, settable MSRs).
#include "base/unique_fd.h"
#include "kvm/kvm_abi.h"

#include <cstdint>
#include <set>
#include <vector>

namespace kestrel {

class KvmSystem {
public:
    // Throws std::runtime_error with QEMU's wording when KVM is unusable.
    KvmSystem();
    KvmSystem(const KvmSystem&) = delete;
    KvmSystem& operator=(const KvmSystem&) = delete;

    int fd() const { return fd_.get(); }
    int check_extension(long cap) const;
    long vcpu_mmap_size() const;
    // KVM_GET_SUPPORTED_CPUID as KVM answers it (see add_vmm_features).
    const std::vector<kvm_cpuid_entry2>& supported_cpuid() const { return cpuid_; }
    bool msr_settable(uint32_t index) const { return msrs_.count(index) != 0; }

private:
    void load_supported_cpuid();
    void load_msr_index_list();

    UniqueFd fd_;
    std::vector<kvm_cpuid_entry2> cpuid_;
    std::set<uint32_t> msrs_;
};

} // namespace kestrel
