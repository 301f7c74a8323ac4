#include "monitor/balloon_control.h"

namespace kestrel {

BalloonService& active_balloon(const VmControl& vm) {
    BalloonService* balloon = vm.services().find<BalloonService>();
    if (!balloon) throw MonitorError(QmpErrorClass::DeviceNotActive, "No balloon device has been activated");
    return *balloon;
}

void request_balloon(const VmControl& vm, int64_t target) {
    BalloonService& balloon = active_balloon(vm);
    if (target <= 0) throw MonitorError("Parameter 'target' expects a size");
    balloon.set_target(uint64_t(target));
}

} // namespace kestrel
