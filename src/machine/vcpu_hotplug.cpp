// device_add / device_del of a vCPU on the running pc, as QEMU 7.2's
// pc-i440fx does it: the slot is checked as for -device (pc_cpu_pre_plug),
// the KVM vCPU is created with the CPUID and MSRs the boot vCPUs got, its
// thread starts (under the vCPU sandbox filter if -sandbox is on), and the
// guest hears of it through the ACPI CPU hotplug registers (GPE 2).
// device_del asks the guest to eject a vCPU the same way.
#include "machine/pc_machine.h"

#include "base/config_error.h"
#include "config/block_opts.h"
#include "config/cpu_device.h"
#include "devices/cpu_hotplug_controller.h"
#include "devices/device_tree.h"
#include "devices/fw_cfg/fw_cfg.h"
#include "devices/fw_cfg/fw_cfg_keys.h"
#include "devices/rtc/cmos_rtc.h"
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
    boot_cpus_changed();
    if (auto* controller = board_->services().find<CpuHotplugController>()) controller->cpu_plugged(cpu.index);
}

// What firmware learns of the vCPUs at its next boot, as QEMU's pc_cpu_plug
// and pc_cpu_unplug_cb: the CMOS count and fw_cfg's NB_CPUS at once, the
// ACPI tables the BIOS loads at the next reset (load_boot_state).
void PcMachine::boot_cpus_changed() {
    const unsigned count = smp_.present_count();
    if (auto* rtc = board_->services().find<CmosRtc>()) rtc->set_cpu_count(count);
    if (auto* fw_cfg = board_->services().find<FwCfg>()) fw_cfg->set_u16(fwcfg::NB_CPUS, uint16_t(count));
    cpu_tables_stale_ = true;
}

// The guest ejects the vCPU through the registers (its _EJ0) once asked;
// as in QEMU, a vCPU of -smp goes the same way as a plugged one.
void PcMachine::delete_vcpu(unsigned index) {
    if (index == 0) throw std::runtime_error("Boot CPU is unpluggable");
    auto* controller = board_->services().find<CpuHotplugController>();
    if (!controller || !controller->cpu_unplug_supported())
        throw std::runtime_error("acpi: device unplug request for not supported device type: " + cfg_.cpu.model +
                                 "-x86_64-cpu");
    controller->request_cpu_unplug(index);
}

void PcMachine::watch_vcpu_ejects() {
    if (auto* controller = board_->services().find<CpuHotplugController>())
        controller->on_cpu_eject([this](unsigned index) { remove_vcpu(index); });
}

// On the main loop: the vCPU's thread stops and the vCPU is parked for a
// later device_add of the slot; then DEVICE_DELETED of its local APIC (a
// QOM child in QEMU) and of the vCPU.
void PcMachine::remove_vcpu(unsigned index) {
    auto it = std::find_if(vcpus_.begin(), vcpus_.end(), [&](const auto& v) { return v->index() == index; });
    if (!smp_.present(index) || it == vcpus_.end()) return;
    (*it)->stop_thread();
    parked_vcpus_.push_back(std::move(*it));
    vcpus_.erase(it);
    // QEMU's DEVICE_DELETED has no "device" for a vCPU without an id (-smp's).
    nlohmann::json data = nlohmann::json::object();
    const ColdPluggedCpu* cpu = smp_.plugged_at(index);
    if (cpu && !cpu->id.empty()) data["device"] = cpu->id;
    const std::string path = cpu ? cpu->qom_path() : vcpu_qom_path(index);
    data["path"] = path;
    smp_.remove(index);
    boot_cpus_changed();
    emit("DEVICE_DELETED", {{"path", path + "/lapic"}});
    emit("DEVICE_DELETED", data);
}

} // namespace kestrel
