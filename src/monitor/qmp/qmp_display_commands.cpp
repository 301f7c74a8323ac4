// QMP's display and input commands: screendump, query-vnc,
// query-vnc-servers, set_password, expire_password, change-vnc-password,
// send-key, input-send-event, query-mice; the VNC events' types.
#include "monitor/display_control.h"
#include "monitor/input_control.h"
#include "monitor/qmp/qmp_commands.h"
#include "ui/qcode.h"
#include "ui/vnc_service.h"

namespace kestrel::qmp {

namespace {

SchemaMember opt(std::string name, std::string type) { return {std::move(name), std::move(type), true}; }

void add_display_types(Schema& s) {
    s.add_enum("ImageFormat", {"ppm", "png"});
    s.add_object("q_obj_screendump-arg",
                 {{"filename", "str"}, opt("device", "str"), opt("head", "int"), opt("format", "ImageFormat")});
    s.add_enum("NetworkAddressFamily", {"ipv4", "ipv6", "unix", "vsock", "unknown"});
    s.add_object("VncBasicInfo", {{"host", "str"}, {"service", "str"}, {"family", "NetworkAddressFamily"},
                                  {"websocket", "bool"}});
    s.add_object("VncServerInfo", {{"host", "str"}, {"service", "str"}, {"family", "NetworkAddressFamily"},
                                   {"websocket", "bool"}, opt("auth", "str")});
    s.add_object("VncClientInfo", {{"host", "str"}, {"service", "str"}, {"family", "NetworkAddressFamily"},
                                   {"websocket", "bool"}, opt("x509_dname", "str"), opt("sasl_username", "str")});
    s.add_object("VncInfo", {{"enabled", "bool"}, opt("host", "str"), opt("family", "NetworkAddressFamily"),
                             opt("service", "str"), opt("auth", "str"), opt("clients", "[VncClientInfo]")});
    s.add_enum("VncPrimaryAuth", {"none", "vnc", "ra2", "ra2ne", "tight", "ultra", "tls", "vencrypt", "sasl"});
    s.add_enum("VncVencryptSubAuth", {"plain", "tls-none", "x509-none", "tls-vnc", "x509-vnc", "tls-plain",
                                      "x509-plain", "tls-sasl", "x509-sasl"});
    s.add_object("VncServerInfo2", {{"host", "str"}, {"service", "str"}, {"family", "NetworkAddressFamily"},
                                    {"websocket", "bool"}, {"auth", "VncPrimaryAuth"},
                                    opt("vencrypt", "VncVencryptSubAuth")});
    s.add_object("VncInfo2", {{"id", "str"}, {"server", "[VncServerInfo2]"}, {"clients", "[VncClientInfo]"},
                              {"auth", "VncPrimaryAuth"}, opt("vencrypt", "VncVencryptSubAuth"),
                              opt("display", "str")});
    s.add_enum("DisplayProtocol", {"vnc", "spice"});
    s.add_enum("SetPasswordAction", {"keep", "fail", "disconnect"});
    s.add_object("q_obj_SetPasswordOptionsVnc-base", {opt("display", "str")});
    s.add_union("SetPasswordOptions",
                {{"protocol", "DisplayProtocol"}, {"password", "str"}, opt("connected", "SetPasswordAction")},
                "protocol", {{"vnc", "q_obj_SetPasswordOptionsVnc-base"}, {"spice", "q_empty"}});
    s.add_object("q_obj_ExpirePasswordOptionsVnc-base", {opt("display", "str")});
    s.add_union("ExpirePasswordOptions", {{"protocol", "DisplayProtocol"}, {"time", "str"}}, "protocol",
                {{"vnc", "q_obj_ExpirePasswordOptionsVnc-base"}, {"spice", "q_empty"}});
    s.add_object("q_obj_change-vnc-password-arg", {{"password", "str"}});
    s.add_object("q_obj_VNC_CONNECTED-arg", {{"server", "VncServerInfo"}, {"client", "VncBasicInfo"}});
    s.add_object("q_obj_VNC_INITIALIZED-arg", {{"server", "VncServerInfo"}, {"client", "VncClientInfo"}});
    s.add_object("q_obj_VNC_DISCONNECTED-arg", {{"server", "VncServerInfo"}, {"client", "VncClientInfo"}});
}

void add_input_types(Schema& s) {
    std::vector<std::string> keys;
    for (const QKeyCode& k : qkeycodes()) keys.emplace_back(k.name);
    s.add_enum("QKeyCode", std::move(keys));
    s.add_enum("KeyValueKind", {"number", "qcode"});
    s.add_object("q_obj_int-wrapper", {{"data", "int"}});
    s.add_object("q_obj_QKeyCode-wrapper", {{"data", "QKeyCode"}});
    s.add_union("KeyValue", {{"type", "KeyValueKind"}}, "type",
                {{"number", "q_obj_int-wrapper"}, {"qcode", "q_obj_QKeyCode-wrapper"}});
    s.add_object("q_obj_send-key-arg", {{"keys", "[KeyValue]"}, opt("hold-time", "int")});
    s.add_enum("InputButton", {"left", "middle", "right", "wheel-up", "wheel-down", "side", "extra", "wheel-left",
                               "wheel-right"});
    s.add_enum("InputAxis", {"x", "y"});
    s.add_object("InputKeyEvent", {{"key", "KeyValue"}, {"down", "bool"}});
    s.add_object("InputBtnEvent", {{"button", "InputButton"}, {"down", "bool"}});
    s.add_object("InputMoveEvent", {{"axis", "InputAxis"}, {"value", "int"}});
    s.add_enum("InputEventKind", {"key", "btn", "rel", "abs"});
    s.add_object("q_obj_InputKeyEvent-wrapper", {{"data", "InputKeyEvent"}});
    s.add_object("q_obj_InputBtnEvent-wrapper", {{"data", "InputBtnEvent"}});
    s.add_object("q_obj_InputMoveEvent-wrapper", {{"data", "InputMoveEvent"}});
    s.add_union("InputEvent", {{"type", "InputEventKind"}}, "type",
                {{"key", "q_obj_InputKeyEvent-wrapper"}, {"btn", "q_obj_InputBtnEvent-wrapper"},
                 {"rel", "q_obj_InputMoveEvent-wrapper"}, {"abs", "q_obj_InputMoveEvent-wrapper"}});
    s.add_object("q_obj_input-send-event-arg", {opt("device", "str"), opt("head", "int"), {"events", "[InputEvent]"}});
    s.add_object("MouseInfo", {{"name", "str"}, {"index", "int"}, {"current", "bool"}, {"absolute", "bool"}});
}

Json address(const VncAddress& a) {
    return Json{{"host", a.host}, {"service", a.service}, {"family", a.family}, {"websocket", a.websocket}};
}

// QEMU reports the IPv4 listener when it has several.
Json query_vnc(VncService* vnc) {
    if (!vnc) return Json{{"enabled", false}};
    VncStatus s = vnc->status();
    if (!s.enabled || s.servers.empty()) return Json{{"enabled", false}};
    const VncAddress* main = &s.servers.front();
    for (const VncAddress& a : s.servers)
        if (a.family == "ipv4" && !a.websocket) main = &a;
    Json info{{"enabled", true}, {"host", main->host}, {"family", main->family}, {"service", main->service},
              {"auth", s.auth}};
    Json clients = Json::array();
    for (const VncAddress& c : s.clients) clients.push_back(address(c));
    info["clients"] = std::move(clients);
    return info;
}

Json query_vnc_servers(VncService* vnc) {
    Json list = Json::array();
    if (!vnc) return list;
    VncStatus s = vnc->status();
    Json servers = Json::array(), clients = Json::array();
    for (auto a = s.servers.rbegin(); a != s.servers.rend(); ++a) {
        Json server = address(*a);
        server["auth"] = s.auth;
        servers.push_back(std::move(server));
    }
    for (const VncAddress& c : s.clients) clients.push_back(address(c));
    list.push_back(Json{{"id", s.id}, {"server", std::move(servers)}, {"clients", std::move(clients)},
                        {"auth", s.auth}});
    return list;
}

void set_password(VmControl& vm, const Json& args) {
    std::string protocol = args.at("protocol").get<std::string>();
    if (protocol == "spice") throw MonitorError(QmpErrorClass::DeviceNotActive, "SPICE is not in use");
    Json connected = optional_arg(args, "connected");
    if (connected.is_string() && connected.get<std::string>() != "keep")
        throw MonitorError("Invalid parameter 'connected'");
    auto* vnc = vm.services().find<VncService>();
    try {
        if (!vnc) throw VncError("");
        vnc->set_password(args.at("password").get<std::string>());
    } catch (const VncError&) {
        throw MonitorError("Could not set password");
    }
}

unsigned key_value(const Json& key) {
    if (key.at("type") == "number") return key_from_number(key.at("data").get<int64_t>());
    return key_from_text(key.at("data").get<std::string>());
}

InputEvent input_event(const Json& e) {
    const std::string& type = e.at("type").get_ref<const std::string&>();
    const Json& d = e.at("data");
    if (type == "key") return InputEvent::key(key_value(d.at("key")), d.at("down").get<bool>());
    if (type == "btn") {
        static const char* const names[] = {"left", "middle", "right", "wheel-up", "wheel-down",
                                            "side", "extra", "wheel-left", "wheel-right"};
        std::string b = d.at("button").get<std::string>();
        unsigned i = 0;
        while (i < std::size(names) && b != names[i]) ++i;
        return InputEvent::btn(InputButton(i), d.at("down").get<bool>());
    }
    InputAxis axis = d.at("axis") == "x" ? InputAxis::X : InputAxis::Y;
    int64_t v = d.at("value").get<int64_t>();
    return type == "rel" ? InputEvent::rel(axis, v) : InputEvent::abs(axis, v);
}

} // namespace

void add_display_commands(QmpCommandTable& table, Schema& schema, QmpServices& services) {
    add_display_types(schema);
    add_input_types(schema);
    VmControl& vm = services.vm;
    table.add({"screendump", "q_obj_screendump-arg", "q_empty", [&vm](const Json& args) {
        Json device = optional_arg(args, "device");
        Json head = optional_arg(args, "head");
        Json format = optional_arg(args, "format");
        screendump(vm, args.at("filename").get<std::string>(),
                   device.is_string() ? std::optional(device.get<std::string>()) : std::nullopt,
                   head.is_number() ? std::optional(head.get<int64_t>()) : std::nullopt,
                   format.is_string() && format.get<std::string>() == "png" ? ImageFormat::Png : ImageFormat::Ppm);
        return Json::object();
    }});
    table.add({"query-vnc", "q_empty", "VncInfo",
               [&vm](const Json&) { return query_vnc(vm.services().find<VncService>()); }});
    table.add({"query-vnc-servers", "q_empty", "[VncInfo2]",
               [&vm](const Json&) { return query_vnc_servers(vm.services().find<VncService>()); }});
    table.add({"set_password", "SetPasswordOptions", "q_empty", [&vm](const Json& args) {
        set_password(vm, args);
        return Json::object();
    }});
    table.add({"expire_password", "ExpirePasswordOptions", "q_empty", [&vm](const Json& args) {
        if (args.at("protocol") == "spice") throw MonitorError(QmpErrorClass::DeviceNotActive, "SPICE is not in use");
        if (auto* vnc = vm.services().find<VncService>()) vnc->expire_password(args.at("time").get<std::string>());
        return Json::object();
    }});
    table.add({"change-vnc-password", "q_obj_change-vnc-password-arg", "q_empty", [&vm](const Json& args) {
        set_password(vm, Json{{"protocol", "vnc"}, {"password", args.at("password")}});
        return Json::object();
    }});
    table.add({"send-key", "q_obj_send-key-arg", "q_empty", [&vm](const Json& args) {
        std::vector<unsigned> keys;
        for (const Json& k : args.at("keys")) keys.push_back(key_value(k));
        Json hold = optional_arg(args, "hold-time");
        send_keys(vm, keys, hold.is_number() && hold.get<int64_t>() > 0 ? int(hold.get<int64_t>()) : 100);
        return Json::object();
    }});
    table.add({"input-send-event", "q_obj_input-send-event-arg", "q_empty", [&vm](const Json& args) {
        if (!vm.status().running) throw MonitorError("VM not running");
        if (optional_arg(args, "head").is_number() && !optional_arg(args, "device").is_string())
            throw MonitorError("'head' must be specified together with 'device'");
        std::vector<InputEvent> events;
        for (const Json& e : args.at("events")) events.push_back(input_event(e));
        send_input(vm, events);
        return Json::object();
    }});
    table.add({"query-mice", "q_empty", "[MouseInfo]", [&vm](const Json&) {
        Json list = Json::array();
        if (auto* input = vm.services().find<InputService>())
            for (const auto& m : input->mice())
                list.push_back(Json{{"name", m.name}, {"index", m.index}, {"current", m.current},
                                    {"absolute", m.absolute}});
        return list;
    }});
}

} // namespace kestrel::qmp
