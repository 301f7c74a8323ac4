#pragma once
// The removable-medium commands both monitors share (HMP eject/change,
// QMP eject, blockdev-open-tray, ...): the machine's MediumService with
// its errors as MonitorError (DeviceNotFound where QEMU says so).
#include "block/removable_medium.h"
#include "monitor/vm_control.h"

#include <functional>

namespace kestrel {

// Runs `fn` on the machine's media; a machine without any answers as
// QEMU does for a name it does not know.
void with_media(VmControl& vm, const MediumTarget& target, const std::function<void(MediumService&)>& fn);

} // namespace kestrel
