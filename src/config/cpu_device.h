#pragma once
// "-device TYPE-x86_64-cpu,socket-id=S,[die-id=D,]core-id=C,thread-id=T[,id=ID]"
// (or apic-id=A instead of the ids): a vCPU that exists from start-up (cold
// plug) in the topology slot it names, with the checks and messages of QEMU
// 7.2's pc machine (pc_cpu_pre_plug). device_add of a vCPU uses the same
// checks (machine/vcpu_hotplug.cpp).
#include "base/qemu_opts.h"
#include "vcpu/cpu_config.h"

#include <string_view>
#include <vector>

namespace kestrel {

// A QEMU x86 CPU type name ("qemu64-x86_64-cpu", "host-x86_64-cpu", ...).
bool is_cpu_device_type(std::string_view driver);

// The slot and id `pairs` (with driver=) ask for on a machine whose -cpu
// model is `cpu_model`; `smp.plugged` holds the vCPUs plugged before.
// The result's anonymous_number is left for the caller. Throws ConfigError.
ColdPluggedCpu check_cpu_device(const SmpConfig& smp, const std::string& cpu_model,
                                const std::vector<qopts::OptPair>& pairs);

} // namespace kestrel
