#pragma once
// The vCPUs as QOM objects, where QEMU 7.2's pc machine has them
// (/machine/unattached/device[N], type "<model>-x86_64-cpu"): the X86CPU
// properties libvirt reads after start (qom-list, qom-get), answered from
// the CPUID the vCPU was given.
#include "monitor/qmp/qmp_json.h"
#include "monitor/vm_control.h"

namespace kestrel::qmp {

Json vcpu_qom_list(const VcpuInfo& cpu);
Json vcpu_qom_get(const VcpuInfo& cpu, const std::string& property);
[[noreturn]] void vcpu_qom_set(const VcpuInfo& cpu, const std::string& property);

// The vCPU properties besides the feature flags and migratable (family,
// vendor, feature-words, unavailable-features, ...), as ObjectPropertyInfo:
// a CPU class's in qom-list-properties too.
void append_cpu_properties(Json& list);

// The X86CPUFeatureWordInfo list of a CPUID table.
Json feature_word_list(const std::vector<kvm_cpuid_entry2>& table);

} // namespace kestrel::qmp
