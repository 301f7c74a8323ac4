// What the guest's _OST says of a vCPU slot, reported as QEMU 7.2's pc
// does: every OST status the guest writes into the ACPI CPU hotplug
// registers is an ACPI_DEVICE_OST event at once, and
// query-acpi-ospm-status lists each slot's last one.
#include "machine/pc_machine.h"

#include "devices/cpu_hotplug_controller.h"
#include "devices/power_button.h"
#include "machine/pc_board.h"
#include "monitor/acpi_ost.h"

#include <string>

namespace kestrel {

// The device is the vCPU in the slot when the guest wrote the status, by
// its id (-smp's vCPUs have none; an ejected one is gone).
AcpiOstInfo PcMachine::cpu_ost_info(const CpuOstReport& report) const {
    AcpiOstInfo info{.slot = std::to_string(report.index), .slot_type = "CPU", .source = report.source,
                     .status = report.status};
    const ColdPluggedCpu* cpu = smp_.plugged_at(report.index);
    if (report.present && cpu) info.device = cpu->id;
    return info;
}

void PcMachine::watch_vcpu_ost() {
    auto* controller = board_->services().find<CpuHotplugController>();
    if (!controller) return;
    controller->on_cpu_ost([this](const CpuOstReport& report) {
        emit("ACPI_DEVICE_OST", {{"info", nlohmann::json(acpi_ost_json(cpu_ost_info(report)))}});
    });
}

// QEMU's PIIX4_PM answers (machines without it refuse the command); the
// CPUs only once the guest left the registers' legacy mode. kestrel has
// no CPU hotplug registers when maxcpus equals cpus, so no CPUs then.
std::optional<std::vector<AcpiOstInfo>> PcMachine::acpi_ospm_status() const {
    if (!board_->services().find<PowerButton>()) return std::nullopt;
    std::vector<AcpiOstInfo> list;
    if (const auto* controller = board_->services().find<CpuHotplugController>())
        for (const CpuOstReport& report : controller->cpu_ospm_status()) list.push_back(cpu_ost_info(report));
    return list;
}

} // namespace kestrel
