// HMP's display and input commands: screendump, info vnc, info mice,
// sendkey, mouse_move, mouse_button, mouse_set, set_password,
// expire_password and change vnc password, in QEMU 7.2's forms and texts.
#include "monitor/display_control.h"
#include "monitor/hmp/hmp_command.h"
#include "monitor/input_control.h"
#include "ui/vnc_service.h"

#include <charconv>
#include <cstdlib>
#include <fmt/format.h>

namespace kestrel {

namespace {

std::string_view rest_of(const HmpCall& call, size_t index) {
    return call.has(index) ? std::string_view(call.text(index)) : std::string_view();
}

// strtol(text, NULL, 0): leading digits in any base prefix, 0 if none.
long c_number(std::string_view text) { return std::strtol(std::string(text).c_str(), nullptr, 0); }

VncService* vnc(HmpContext& ctx) { return ctx.vm().services().find<VncService>(); }

std::string address_text(const VncAddress& a) {
    if (a.family == "unix") return a.service + " (unix)";
    bool v6 = a.family == "ipv6";
    return fmt::format("{}{}{}:{} ({}{})", v6 ? "[" : "", a.host, v6 ? "]" : "", a.service, a.family,
                       a.websocket ? ", websocket" : "");
}

// The VNC server's password, or QEMU's two lines when it has no
// password authentication.
void set_vnc_password(HmpContext& ctx, const std::string& password) {
    VncService* server = vnc(ctx);
    try {
        if (!server) throw VncError("");
        server->set_password(password);
    } catch (const VncError& e) {
        if (*e.what()) ctx.print(std::string(e.what()) + "\n");
        throw MonitorError("Could not set password");
    }
}

} // namespace

// "screendump filename [-f format] [device [head]]"
void hmp_screendump(HmpContext& ctx, const HmpCall& call) {
    std::string_view rest = rest_of(call, 1);
    ImageFormat format = ImageFormat::Ppm;
    skip_hmp_spaces(rest);
    if (rest.starts_with("-f")) {
        take_hmp_word(rest);
        std::string_view name = take_hmp_word(rest);
        if (name == "png")
            format = ImageFormat::Png;
        else if (name != "ppm")
            throw MonitorError("invalid parameter value: " + std::string(name));
    }
    std::optional<std::string> device;
    std::optional<int64_t> head;
    if (std::string_view word = take_hmp_word(rest); !word.empty()) device = std::string(word);
    if (std::string_view word = take_hmp_word(rest); !word.empty()) head = c_number(word);
    screendump(ctx.vm(), call.text(0), device, head, format);
}

void hmp_info_vnc(HmpContext& ctx, const HmpCall&) {
    VncService* server = vnc(ctx);
    if (!server) {
        ctx.print("None\n");
        return;
    }
    VncStatus s = server->status();
    ctx.print(s.id + ":\n");
    for (const VncAddress& a : s.servers)
        ctx.print(fmt::format("  Server: {}\n    Auth: {} (Sub: none)\n", address_text(a), s.auth));
    for (const VncAddress& c : s.clients)
        ctx.print(fmt::format("  Client: {}\n    x509_dname: none\n    sasl_username: none\n", address_text(c)));
}

void hmp_info_mice(HmpContext& ctx, const HmpCall&) {
    auto* input = ctx.vm().services().find<InputService>();
    auto mice = input ? input->mice() : std::vector<InputService::MouseInfo>{};
    if (mice.empty()) {
        ctx.print("No mouse devices connected\n");
        return;
    }
    for (const auto& m : mice)
        ctx.print(fmt::format("{} Mouse #{}: {}{}\n", m.current ? '*' : ' ', m.index, m.name,
                              m.absolute ? " (absolute)" : ""));
}

// "sendkey keys [hold_ms]": keys joined by '-' ("ctrl-alt-f1").
void hmp_sendkey(HmpContext& ctx, const HmpCall& call) {
    std::string_view keys = call.text(0);
    std::vector<unsigned> codes;
    while (!keys.empty()) {
        size_t dash = keys.find('-', 1);
        std::string_view name = keys.substr(0, dash);
        codes.push_back(key_from_text(name));
        keys.remove_prefix(dash == std::string_view::npos ? keys.size() : dash + 1);
    }
    int hold = 100;
    std::string_view rest = rest_of(call, 1);
    if (std::string_view word = take_hmp_word(rest); !word.empty()) hold = int(c_number(word));
    if (hold <= 0) hold = 100;
    send_keys(ctx.vm(), codes, hold);
}

// "mouse_move dx dy [dz]": relative moves; dz turns the wheel.
void hmp_mouse_move(HmpContext& ctx, const HmpCall& call) {
    std::string_view rest = rest_of(call, 1);
    std::string_view dy = take_hmp_word(rest);
    std::string_view dz = take_hmp_word(rest);
    if (dy.empty()) throw HmpArgError("mouse_move: string expected");
    std::vector<InputEvent> events{InputEvent::rel(InputAxis::X, c_number(call.text(0))),
                                   InputEvent::rel(InputAxis::Y, c_number(dy))};
    send_input(ctx.vm(), events);
    if (long z = dz.empty() ? 0 : c_number(dz); z != 0) {
        InputButton wheel = z > 0 ? InputButton::WheelUp : InputButton::WheelDown;
        send_input(ctx.vm(), {InputEvent::btn(wheel, true)});
        send_input(ctx.vm(), {InputEvent::btn(wheel, false)});
    }
}

// "mouse_button state": 1 left, 2 middle, 4 right; changes only.
void hmp_mouse_button(HmpContext& ctx, const HmpCall& call) {
    static unsigned last = 0;
    unsigned state = unsigned(call.number(0));
    constexpr InputButton kMap[] = {InputButton::Left, InputButton::Middle, InputButton::Right};
    std::vector<InputEvent> events;
    for (unsigned bit = 0; bit < 3; ++bit)
        if ((state ^ last) & (1u << bit)) events.push_back(InputEvent::btn(kMap[bit], state & (1u << bit)));
    last = state;
    if (!events.empty()) send_input(ctx.vm(), events);
}

void hmp_mouse_set(HmpContext& ctx, const HmpCall& call) {
    int64_t index = int64_t(call.number(0));
    if (index < 0 || !input_service(ctx.vm()).select_mouse(unsigned(index)))
        ctx.print(fmt::format("Mouse at index '{}' not found\n", index));
}

// "set_password protocol password [-d display] [action-if-connected]"
void hmp_set_password(HmpContext& ctx, const HmpCall& call) {
    std::string_view rest = rest_of(call, 2);
    if (rest.starts_with("-d")) {
        take_hmp_word(rest);
        take_hmp_word(rest);
    }
    std::string_view connected = take_hmp_word(rest);
    const std::string& protocol = call.text(0);
    if (protocol == "spice") throw MonitorError(QmpErrorClass::DeviceNotActive, "SPICE is not in use");
    if (protocol != "vnc") throw MonitorError("Parameter 'protocol' does not accept value '" + protocol + "'");
    if (!connected.empty() && connected != "keep") {
        if (connected != "fail" && connected != "disconnect")
            throw MonitorError("Parameter 'connected' does not accept value '" + std::string(connected) + "'");
        throw MonitorError("Invalid parameter 'connected'");
    }
    set_vnc_password(ctx, call.text(1));
}

// "expire_password protocol time [-d display]"
void hmp_expire_password(HmpContext& ctx, const HmpCall& call) {
    const std::string& protocol = call.text(0);
    if (protocol == "spice") throw MonitorError(QmpErrorClass::DeviceNotActive, "SPICE is not in use");
    if (protocol != "vnc") throw MonitorError("Parameter 'protocol' does not accept value '" + protocol + "'");
    if (VncService* server = vnc(ctx)) server->expire_password(call.text(1));
}

// "change vnc password PASSWORD" here; a drive's medium in hmp_block.cpp.
void hmp_change(HmpContext& ctx, const HmpCall& call) {
    std::string_view rest = rest_of(call, 1);
    const std::string& device = call.text(0);
    if (device != "vnc") return hmp_change_medium(ctx, device, rest);
    std::string_view target = take_hmp_word(rest);
    if (target != "passwd" && target != "password") {
        ctx.print("Expected 'password' after 'vnc'\n");
        return;
    }
    std::string_view password = take_hmp_word(rest);
    if (password.empty()) throw MonitorError("change vnc password: give the password on the command line");
    set_vnc_password(ctx, std::string(password));
}

} // namespace kestrel
