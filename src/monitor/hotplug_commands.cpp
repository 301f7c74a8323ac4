#include "monitor/hotplug_commands.h"

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

} // namespace

void hotplug_device_add(VmControl& vm, const std::vector<qopts::OptPair>& options) {
    DeviceHotplug* hotplug = hotplug_of(vm);
    if (!hotplug) {
        std::string driver;
        for (const qopts::OptPair& p : options)
            if (p.key == "driver") driver = p.value;
        throw MonitorError("No 'PCI' bus found for device '" + driver + "'");
    }
    with_hotplug_errors([&] { hotplug->add_device(options); });
}

void hotplug_device_del(VmControl& vm, const std::string& name) {
    DeviceHotplug* hotplug = hotplug_of(vm);
    if (!hotplug) throw MonitorError(QmpErrorClass::DeviceNotFound, "Device '" + name + "' not found");
    with_hotplug_errors([&] { hotplug->delete_device(name); });
}

} // namespace kestrel
