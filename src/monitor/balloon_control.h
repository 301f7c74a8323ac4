#pragma once
// QEMU's balloon commands, shared by HMP and QMP: the machine's balloon or
// QEMU's DeviceNotActive error, and the checks of a new target.
#include "devices/balloon_service.h"
#include "monitor/vm_control.h"

namespace kestrel {

// The balloon, or MonitorError(DeviceNotActive, "No balloon device has been activated").
BalloonService& active_balloon(const VmControl& vm);
// QMP "balloon" / HMP "balloon": target in bytes; "Parameter 'target'
// expects a size" unless it is positive.
void request_balloon(const VmControl& vm, int64_t target);

} // namespace kestrel
