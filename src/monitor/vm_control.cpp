#include "monitor/vm_control.h"

namespace kestrel {

// A machine that reports no devices and offers no services.
const DeviceTree& VmControl::devices() const {
    static const DeviceTree none;
    return none;
}

const ServiceRegistry& VmControl::services() const {
    static const ServiceRegistry none;
    return none;
}

} // namespace kestrel
