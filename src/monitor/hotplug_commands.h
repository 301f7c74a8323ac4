#pragma once
// device_add and device_del as both monitors run them: the machine's
// DeviceHotplug with its errors as MonitorError (DeviceNotFound where QEMU
// says so). A machine without PCI hotplug (none) answers as QEMU's does.
#include "base/qemu_opts.h"
#include "monitor/vm_control.h"

#include <vector>

namespace kestrel {

void hotplug_device_add(VmControl& vm, const std::vector<qopts::OptPair>& options);
void hotplug_device_del(VmControl& vm, const std::string& name);

} // namespace kestrel
