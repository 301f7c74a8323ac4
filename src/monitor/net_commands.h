#pragma once
// What HMP and QMP share for the network commands: the machine's
// NetService and the mapping of its errors to QMP's classes.
#include "monitor/vm_control.h"
#include "net/net_service.h"

#include <functional>

namespace kestrel {

// The machine's NetService; a machine without one has no network clients.
NetService* net_service_of(VmControl& vm);

// Runs `fn`, turning the network's and the option parser's errors into
// MonitorError (NetClientNotFound: DeviceNotFound; the rest: GenericError).
void with_net_errors(const std::function<void()>& fn);

} // namespace kestrel
