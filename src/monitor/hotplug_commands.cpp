#include "monitor/hotplug_commands.h"

#include "config/qemu_device_names.h"
#include "devices/device_hotplug.h"

namespace kestrel {

namespace {

DeviceHotplug* hotplug_of(VmControl& vm) { return vm.services().find<DeviceHotplug>(); }

template <typename Fn> void with_hotplug_errors(Fn&& fn) {
    try {
        fn();
    } catch (const HotplugDeviceNotFound& e) {
        throw MonitorError(QmpErrorClass::DeviceNotFound, e.what());
    } catch (const MonitorError&) {
        throw;
    } catch (const std::runtime_error& e) {
        throw MonitorError(e.what());
    }
}

// A vCPU goes to the machine's VcpuHotplug; a machine without one (none)
// refuses it as QEMU refuses a device its machine has no hotplug handler for.
bool is_cpu_type(std::string_view name) { return name.ends_with("-x86_64-cpu") && is_qemu_device_name(name); }

// device_del's name as QEMU resolves it: a QOM path, or a peripheral's id.
const VcpuInfo* find_vcpu(const std::vector<VcpuInfo>& cpus, const std::string& name) {
    const std::string path = name.starts_with('/') ? name : "/machine/peripheral/" + name;
    for (const VcpuInfo& cpu : cpus)
        if (cpu.qom_path == path) return &cpu;
    return nullptr;
}

// QEMU 7.2's pc refuses the boot CPU; a machine without vCPU hotplug
// (none) refuses any as QEMU's PIIX4 does before the guest's ACPI runs.
void unplug_vcpu(VmControl& vm, const VcpuInfo& cpu) {
    auto* vcpus = vm.services().find<VcpuHotplug>();
    if (cpu.index == 0) throw MonitorError("Boot CPU is unpluggable");
    if (!vcpus)
        throw MonitorError("acpi: device unplug request for not supported device type: " + cpu.cpu_model +
                           "-x86_64-cpu");
    with_hotplug_errors([&] { vcpus->delete_vcpu(cpu.index); });
}

} // namespace

void hotplug_device_add(VmControl& vm, const std::vector<qopts::OptPair>& options) {
    std::string driver;
    for (const qopts::OptPair& p : options)
        if (p.key == "driver") driver = p.value;
    if (is_cpu_type(driver)) {
        auto* vcpus = vm.services().find<VcpuHotplug>();
        if (!vcpus) throw MonitorError("Device '" + driver + "' can not be hotplugged on this machine");
        with_hotplug_errors([&] { vcpus->add_vcpu(options); });
        return;
    }
    DeviceHotplug* hotplug = hotplug_of(vm);
    if (!hotplug) throw MonitorError("No 'PCI' bus found for device '" + driver + "'");
    with_hotplug_errors([&] { hotplug->add_device(options); });
}

void hotplug_device_del(VmControl& vm, const std::string& name) {
    std::vector<VcpuInfo> cpus = vm.cpus();
    if (const VcpuInfo* cpu = find_vcpu(cpus, name)) return unplug_vcpu(vm, *cpu);
    DeviceHotplug* hotplug = hotplug_of(vm);
    if (!hotplug) throw MonitorError(QmpErrorClass::DeviceNotFound, "Device '" + name + "' not found");
    with_hotplug_errors([&] { hotplug->delete_device(name); });
}

} // namespace kestrel
