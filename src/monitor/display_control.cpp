#include "monitor/display_control.h"

#include "ui/display_service.h"

namespace kestrel {

void screendump(VmControl& vm, const std::string& filename, const std::optional<std::string>& device,
                std::optional<int64_t> head, ImageFormat format) {
    auto* displays = vm.services().find<DisplayService>();
    Console* console = nullptr;
    if (device) {
        unsigned h = head ? unsigned(*head) : 0;
        if (!vm.devices().find_by_id(*device))
            throw MonitorError(QmpErrorClass::DeviceNotFound, "Device '" + *device + "' not found");
        console = displays && head.value_or(0) >= 0 ? displays->find(*device, h) : nullptr;
        if (!console)
            throw MonitorError("Device " + *device + " (head " + std::to_string(head.value_or(0)) +
                               ") is not bound to a QemuConsole");
    } else {
        if (head) throw MonitorError("'head' must be specified together with 'device'");
        if (!displays || displays->consoles().empty())
            throw MonitorError("There is no console to take a screendump from");
        console = displays->consoles().front().get();
    }
    Surface picture = console->snapshot();
    try {
        write_screendump(picture, filename, format);
    } catch (const std::runtime_error& e) {
        throw MonitorError(e.what());
    }
}

const char* vnc_event_name(const VncClientEvent& event) {
    switch (event.kind) {
    case VncClientEvent::Kind::Connected: return "VNC_CONNECTED";
    case VncClientEvent::Kind::Initialized: return "VNC_INITIALIZED";
    case VncClientEvent::Kind::Disconnected: return "VNC_DISCONNECTED";
    }
    return "";
}

nlohmann::json vnc_event_data(const VncClientEvent& event) {
    auto address = [](const VncAddress& a) {
        return nlohmann::json{{"host", a.host}, {"service", a.service}, {"family", a.family},
                              {"websocket", a.websocket}};
    };
    nlohmann::json server = address(event.server);
    server["auth"] = event.auth;
    return {{"server", server}, {"client", address(event.client)}};
}

} // namespace kestrel
