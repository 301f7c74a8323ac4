// -vga, -vnc (and -display vnc=), -k, and the defaults QEMU applies: the
// std VGA unless -nodefaults or a display device is given, and a VNC server
// on localhost:0 (to 99) when no display is chosen, as QEMU does on a
// machine without GUI libraries.
#include "config/parse_state.h"

#include <algorithm>
#include <charconv>

namespace kestrel {

namespace {

constexpr std::string_view kOtherQemuVgas[] = {"vmware", "qxl", "xenfb", "tcx", "cg3", "virtio"};
// Devices that, given with -device, replace QEMU's default VGA.
constexpr std::string_view kDisplayDevices[] = {"VGA",        "cirrus-vga", "isa-vga",    "isa-cirrus-vga",
                                                "vmware-svga", "qxl-vga",    "virtio-vga", "ati-vga",
                                                "bochs-display", "virtio-vga-gl", "vhost-user-vga"};
// QEMU's VNC options kestrel does not implement (TLS, SASL, reverse, ...).
constexpr std::string_view kUnsupportedVnc[] = {"reverse", "lock-key-sync", "sasl", "acl", "tls-authz",
                                                "sasl-authz", "tls-creds", "x509", "x509verify", "tls",
                                                "password-secret"};
constexpr std::string_view kVncOptions[] = {"vnc", "id", "share", "password", "to", "ipv4", "ipv6", "websocket",
                                            "lossy", "non-adaptive", "display", "head", "power-control",
                                            "key-delay-ms", "audiodev"};

std::optional<int> to_int(std::string_view text) {
    int v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
    return v;
}

int parse_display_number(std::string_view text) {
    auto n = to_int(text);
    if (!n) throw ConfigError("can't convert to a number: " + std::string(text));
    if (*n > 65535 - 5900) throw ConfigError("port " + std::to_string(*n) + " out of range");
    return *n;
}

// "unix:PATH", "[HOST]:DISPLAY", "HOST:DISPLAY" or ":DISPLAY".
void parse_vnc_address(VncConfig& vnc, const std::string& where) {
    if (where.starts_with("unix:")) {
        vnc.unix_socket = true;
        vnc.path = where.substr(5);
        return;
    }
    size_t colon = where.rfind(':');
    if (colon == std::string::npos) throw ConfigError("no vnc port specified");
    std::string host = where.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    vnc.host = host;
    vnc.display = parse_display_number(std::string_view(where).substr(colon + 1));
}

void parse_websocket(VncConfig& vnc, const std::string& value) {
    if (auto on = qopts::to_bool(value)) {
        if (*on) vnc.websocket_port = 5700 + vnc.display;
        return;
    }
    std::string port = value.substr(value.rfind(':') == std::string::npos ? 0 : value.rfind(':') + 1);
    auto n = to_int(port);
    if (!n || *n > 65535) throw ConfigError("can't convert to a number: " + port);
    vnc.websocket_port = *n;
}

void apply_vnc_option(VncConfig& vnc, const qopts::OptPair& p) {
    if (p.key == "id") vnc.id = p.value;
    else if (p.key == "password") vnc.password = qopts::parse_bool(p.key, p.value);
    else if (p.key == "to") vnc.to = int(qopts::parse_number(p.key, p.value));
    else if (p.key == "ipv4") vnc.ipv4 = qopts::parse_bool(p.key, p.value);
    else if (p.key == "ipv6") vnc.ipv6 = qopts::parse_bool(p.key, p.value);
    else if (p.key == "lossy") vnc.lossy = qopts::parse_bool(p.key, p.value);
    else if (p.key == "non-adaptive" || p.key == "power-control") qopts::parse_bool(p.key, p.value);
    else if (p.key == "key-delay-ms") vnc.key_delay_ms = int(qopts::parse_number(p.key, p.value));
    else if (p.key == "audiodev") vnc.audiodev = p.value;
    else if (p.key == "share") {
        if (p.value == "allow-exclusive") vnc.share = VncConfig::Share::AllowExclusive;
        else if (p.value == "force-shared") vnc.share = VncConfig::Share::ForceShared;
        else if (p.value == "ignore") vnc.share = VncConfig::Share::Ignore;
        else throw ConfigError("unknown vnc share= option");
    }
}

} // namespace

// QEMU's -vnc grammar (QemuOpts, implied key "vnc").
VncConfig parse_vnc(ParseState& st, const std::string& location, const std::string& text) {
    return at_location(location, [&] {
        auto split = qopts::split(text, "vnc", qopts::Syntax::QemuOpts);
        VncConfig vnc;
        vnc.location = location;
        std::optional<std::string> where;
        for (const qopts::OptPair& p : split.pairs) {
            if (p.short_form) st.warn(location, qopts::short_form_warning(p));
            if (std::find(std::begin(kUnsupportedVnc), std::end(kUnsupportedVnc), p.key) != std::end(kUnsupportedVnc))
                throw ConfigError("VNC option '" + p.key + "' is not supported by kestrel yet");
            if (std::find(std::begin(kVncOptions), std::end(kVncOptions), p.key) == std::end(kVncOptions))
                throw ConfigError("Invalid parameter '" + p.key + "'");
            if (p.key == "vnc") where = p.value;
        }
        if (!where) throw ConfigError("Parameter 'vnc' is missing");
        if (*where == "none") return vnc;
        parse_vnc_address(vnc, *where);
        for (const qopts::OptPair& p : split.pairs) {
            if (p.key == "websocket")
                parse_websocket(vnc, p.value);
            else
                apply_vnc_option(vnc, p);
        }
        if (vnc.to && *vnc.to < vnc.display) throw ConfigError("Failed to create a socket");
        vnc.announce = vnc.to.has_value();
        vnc.enabled = true;
        return vnc;
    });
}

void handle_vga(ParseState& st, const ArgToken& tok) {
    const std::string& name = *tok.value;
    if (name == "help" || name == "?") {
        st.vga_help = true;
        return;
    }
    at_location(tok.location(), [&] {
        if (name == "none") st.vga = VgaKind::None;
        else if (name == "std") st.vga = VgaKind::Std;
        else if (name == "cirrus") st.vga = VgaKind::Cirrus;
        else if (std::find(std::begin(kOtherQemuVgas), std::end(kOtherQemuVgas), name) != std::end(kOtherQemuVgas))
            throw ConfigError("vga type '" + name + "' is not supported by kestrel yet");
        else
            throw ConfigError("unknown vga type: " + name);
    });
}

void handle_vnc(ParseState& st, const ArgToken& tok) { add_vnc(st, tok.location(), *tok.value); }

void add_vnc(ParseState& st, const std::string& location, const std::string& text) {
    if (st.cfg.vnc) throw ConfigError(location + ": only one VNC server is supported by kestrel");
    st.cfg.vnc = parse_vnc(st, location, text);
}

void handle_keyboard_layout(ParseState& st, const ArgToken& tok) {
    const std::string& layout = *tok.value;
    if (layout != "en-us")
        throw ConfigError(tok.location() + ": keyboard layout '" + layout +
                          "' is not supported by kestrel yet (en-us is)");
    st.cfg.keyboard_layout = layout;
}

void handle_usb(ParseState& st, const ArgToken&) { st.cfg.usb = true; }

// -usbdevice NAME: QEMU's legacy way to add a USB device; it turns -usb on.
void handle_usbdevice(ParseState& st, const ArgToken& tok) {
    const std::string& name = *tok.value;
    if (name == "mouse" || name == "keyboard" || name == "braille" || name.starts_with("disk:") ||
        name.starts_with("serial:") || name == "wacom-tablet")
        throw ConfigError(tok.location() + ": USB device '" + name + "' is not supported by kestrel yet");
    if (name != "tablet") throw ConfigError(tok.location() + ": could not add USB device '" + name + "'");
    st.cfg.usb = true;
    st.usb_devices.push_back({tok.location(), name});
}

void print_vga_help(std::ostream& out) {
    out << "none                 no graphic card\n"
           "std                  standard VGA (default)\n"
           "cirrus               Cirrus VGA\n";
}

void finalize_display(ParseState& st) {
    bool display_device = std::any_of(st.devices.begin(), st.devices.end(), [](const PendingOpts& d) {
        for (const qopts::OptPair& p : d.pairs)
            if (p.key == "driver")
                return std::find(std::begin(kDisplayDevices), std::end(kDisplayDevices), p.value) !=
                       std::end(kDisplayDevices);
        return false;
    });
    // audiodev= (libvirt always gives one): kestrel's only audio driver is
    // none, so the VNC server has no audio to offer; the id must exist.
    if (st.cfg.vnc && !st.cfg.vnc->audiodev.empty() &&
        std::find(st.cfg.audiodevs.begin(), st.cfg.audiodevs.end(), st.cfg.vnc->audiodev) == st.cfg.audiodevs.end())
        throw ConfigError(st.cfg.vnc->location + ": Audiodev '" + st.cfg.vnc->audiodev + "' not found");
    if (st.vga)
        st.cfg.vga = *st.vga;
    else
        st.cfg.vga = st.cfg.nodefaults || display_device ? VgaKind::None : VgaKind::Std;
    // QEMU's default display on a machine without GUI libraries.
    if (!st.cfg.vnc && st.cfg.display == DisplayKind::Default) {
        st.cfg.vnc = parse_vnc(st, "", "localhost:0,to=99");
        st.cfg.vnc->host = "127.0.0.1";
    }
}

} // namespace kestrel
