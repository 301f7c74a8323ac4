// device_add / device_del of a vCPU on the running pc, as QEMU 7.2's
// pc-i440fx does it: the slot is checked as for -device (pc_cpu_pre_plug),
// the KVM vCPU is created with the CPUID and MSRs the boot vCPUs got, its
// thread starts (under the vCPU sandbox filter if -sandbox is on), and the
// guest hears of it through the ACPI CPU hotplug registers (GPE 2).
#include "machine/pc_machine.h"

#include "base/config_error.h"
#include "config/block_opts.h"
#include "config/cpu_device.h"
#include "devices/cpu_hotplug_controller.h"
#include "machine/pc_board.h"

#include <algorithm>
#include <stdexcept>

namespace kestrel {

namespace {

std::string id_of(const std::vector<qopts::OptPair>& options) {
    for (const qopts::OptPair& p : options)
        if (p.key == "id") return p.value;
    return "";
}

} // namespace

void PcMachine::add_vcpu(const std::vector<qopts::OptPair>& options) {
    // QEMU sets the id before the properties, and checks the slot last.
    const std::string id = id_of(options);
    ColdPluggedCpu cpu;
    try {
        if (!id.empty()) check_identifier(id);
        bool taken = board_->devices().find_by_id(id) != nullptr ||
                     std::any_of(smp_.plugged.begin(), smp_.plugged.end(), [&](const ColdPluggedCpu& c) { return c.id == id; });
        if (!id.empty() && taken) throw ConfigError("Duplicate device ID '" + id + "'");
        cpu = check_cpu_device(smp_, cfg_.cpu.model, options);
    } catch (const ConfigError& e) {
        throw std::runtime_error(e.what());
    }
    if (id.empty()) cpu.anonymous_number = board_->devices().claim_anonymous();
    create_vcpu(cpu.index);
    Vcpu& vcpu = *vcpus_.back();
    smp_.plugged.push_back(cpu);
    vcpu.reset();
    vcpu.start_thread();
    if (state_ == RunState::Running) vcpu.resume();
    if (auto* controller = board_->services().find<CpuHotplugController>()) controller->cpu_plugged(cpu.index);
}

} // namespace kestrel
