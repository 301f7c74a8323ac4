#include "monitor/net_commands.h"

#include "base/config_error.h"

namespace kestrel {

NetService* net_service_of(VmControl& vm) { return vm.services().find<NetService>(); }

void with_net_errors(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const NetClientNotFound& e) {
        throw MonitorError(QmpErrorClass::DeviceNotFound, e.what());
    } catch (const MonitorError&) {
        throw;
    } catch (const std::runtime_error& e) {  // ConfigError too
        throw MonitorError(e.what());
    }
}

} // namespace kestrel
