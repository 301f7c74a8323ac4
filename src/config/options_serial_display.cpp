// -serial, -display (and the defaults -nographic / -nodefaults imply).
#include "config/chardev_opts.h"

#include <algorithm>

namespace kestrel {

namespace {

constexpr size_t kMaxSerialPorts = 4;  // COM1..COM4 on the pc machine

// Displays QEMU may provide; kestrel has none of them (VNC is a server,
// "-display vnc=..." or -vnc).
constexpr std::string_view kOtherDisplays[] = {
    "gtk", "sdl", "curses", "egl-headless", "spice-app", "dbus", "cocoa",
};

bool uses_stdio(const Config& cfg) {
    return std::any_of(cfg.chardevs.begin(), cfg.chardevs.end(),
                       [](const ChardevConfig& d) { return d.backend == "stdio"; });
}

// The serial port QEMU creates when no -serial (and no -nodefaults) is
// given. QEMU puts it on a virtual console unless -nographic; kestrel has
// none and uses stdio instead, or drops the output (null) when stdio is
// gone (-daemonize) or already taken (say by -monitor stdio), as QEMU's
// invisible console would.
std::string default_serial_spec(const ParseState& st) {
    const Config& cfg = st.cfg;
    if (cfg.display == DisplayKind::Nographic)
        return st.default_monitor ? "mon:stdio" : "stdio";
    if (cfg.daemonize || uses_stdio(cfg))
        return "null";
    return "stdio";
}

std::string could_not_connect(const std::string& text) {
    return "could not connect serial device to character backend '" + text + "'";
}

// One serial port (or debug console) on `text` ("chardev:ID" or a
// shorthand, "mon:" muxing an HMP in), its chardev called `label`.
// Returns the id of its chardev; nullopt if `text` names no backend.
// `attach`: count the port as the chardev's user here (a -device that
// names the chardev counts itself).
std::optional<std::string> connect_frontend(ParseState& st, const std::string& location, const std::string& label,
                                            const std::string& text, bool attach = true) {
    if (text.starts_with("chardev:")) {
        std::string id = text.substr(8);
        if (!attach_frontend(st, id))
            return std::nullopt;
        return id;
    }
    std::optional<PendingChardev> p = parse_chardev_shorthand(st, location, label, text);
    if (!p)
        return std::nullopt;
    create_chardev(st, *p);
    if (p->dev.mux) {
        attach_frontend(st, label);
        st.cfg.monitors.push_back({label});
    }
    if (attach)
        attach_frontend(st, label);
    return label;
}

void add_serial(ParseState& st, const std::string& location, const std::string& text) {
    at_location(location, [&] {
        if (text == "none")  // no port; the next -serial takes this COM
            return;
        if (st.cfg.serials.size() == kMaxSerialPorts)
            throw ConfigError("too many serial ports (the pc machine has 4)");
        std::string label = "serial" + std::to_string(st.cfg.serials.size());
        std::optional<std::string> id = connect_frontend(st, location, label, text);
        if (!id)
            throw ConfigError(could_not_connect(text));
        st.cfg.serials.push_back(*id);
    });
}

} // namespace

void handle_serial(ParseState& st, const ArgToken& tok) {
    st.serials.push_back({tok.location(), *tok.value});
}

void finalize_serials(ParseState& st) {
    for (const LocatedText& arg : st.serials)
        add_serial(st, arg.location, arg.text);
    if (st.serials.empty() && !st.cfg.nodefaults)
        add_serial(st, "", default_serial_spec(st));
}

void handle_debugcon(ParseState& st, const ArgToken& tok) {
    st.debugcons.push_back({tok.location(), *tok.value});
}

// As QEMU: a chardev "debugcon" and, after every -device, an isa-debugcon
// with id "debugcon" on it.
void finalize_debugcons(ParseState& st) {
    for (const LocatedText& arg : st.debugcons) {
        at_location(arg.location, [&] {
            for (const ChardevConfig& c : st.cfg.chardevs)
                if (c.id == "debugcon")
                    throw ConfigError("attempt to add duplicate property 'debugcon' to object (type 'container')");
            if (arg.text.starts_with("chardev:") || !connect_frontend(st, arg.location, "debugcon", arg.text, false))
                throw ConfigError("invalid character backend '" + arg.text + "'");
            for (const PendingOpts& d : st.devices)
                for (const qopts::OptPair& p : d.pairs)
                    if (p.key == "id" && p.value == "debugcon") throw ConfigError("already have a debugcon device");
        });
        st.devices.push_back({arg.location, {{"driver", "isa-debugcon"}, {"id", "debugcon"}, {"chardev", "debugcon"}}});
    }
}

void handle_display(ParseState& st, const ArgToken& tok) {
    const std::string& text = *tok.value;
    if (text.starts_with("vnc")) {  // QEMU's "-display vnc=<display>[,options]"
        if (text.size() < 4 || text[3] != '=')
            throw ConfigError(tok.location() + ": VNC requires a display argument vnc=<display>");
        add_vnc(st, tok.location(), text.substr(4));
        return;
    }
    auto split = at_location(tok.location(), [&] {
        return qopts::split(text, "type", qopts::Syntax::Keyval);
    });
    if (split.help) {
        st.display_help = true;
        return;
    }
    auto type = std::find_if(split.pairs.begin(), split.pairs.end(),
                             [](const qopts::OptPair& p) { return p.key == "type"; });
    at_location(tok.location(), [&] {
        if (type == split.pairs.end())
            throw ConfigError("Parameter 'type' is missing");
        bool other = std::find(std::begin(kOtherDisplays), std::end(kOtherDisplays),
                               type->value) != std::end(kOtherDisplays);
        if (type->value != "none" && !other)
            throw ConfigError("Parameter 'type' does not accept value '" + type->value + "'");
        for (const qopts::OptPair& p : split.pairs) {
            if (p.key != "type" && type->value == "none")
                throw ConfigError("Parameter '" + p.key + "' is unexpected");
        }
    });
    if (type->value != "none")
        throw ConfigError("Display '" + type->value + "' is not available.");
    if (st.cfg.display == DisplayKind::Default)
        st.cfg.display = DisplayKind::None;  // -nographic already implies none
}

} // namespace kestrel
