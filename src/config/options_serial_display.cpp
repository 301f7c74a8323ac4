// -serial, -display (and the defaults -nographic / -nodefaults imply).
#include "config/parse_state.h"

#include <algorithm>

namespace kestrel {

namespace {

constexpr size_t kMaxSerialPorts = 4;  // COM1..COM4 on the pc machine

// Backends QEMU knows for -serial that kestrel does not provide (yet).
constexpr std::string_view kOtherQemuBackends[] = {
    "vc", "pty", "msmouse", "wctablet", "braille", "testdev", "chardev", "tcp",
    "telnet", "websocket", "udp", "unix", "pipe", "tty",
};

// Displays QEMU may provide; kestrel has none of them.
constexpr std::string_view kOtherDisplays[] = {
    "gtk", "sdl", "vnc", "curses", "egl-headless", "spice-app", "dbus", "cocoa",
};

// Parses one -serial argument; nullopt for "none" (no port at this index).
std::optional<ChardevConfig> parse_serial_backend(const std::string& text) {
    if (text == "none")
        return std::nullopt;
    ChardevConfig dev;
    std::string spec = text;
    if (spec.starts_with("mon:")) {
        dev.mux = true;
        spec = spec.substr(4);
    }
    if (spec == "stdio" || spec == "null") {
        dev.backend = spec;
    } else if (spec.starts_with("file:")) {
        dev.backend = "file";
        dev.path = spec.substr(5);
        if (dev.path.empty())  // can never be opened; QEMU fails the same way
            throw ConfigError("Could not open '': No such file or directory");
    } else {
        std::string kind = spec.substr(0, spec.find(':'));
        if (spec.starts_with("/dev/"))
            kind = "tty";
        bool known = std::find(std::begin(kOtherQemuBackends), std::end(kOtherQemuBackends),
                               kind) != std::end(kOtherQemuBackends);
        if (known)
            throw ConfigError("character backend '" + kind + "' is not supported by kestrel");
        throw ConfigError("'" + spec + "' is not a valid char driver");
    }
    return dev;
}

// The serial port QEMU creates when no -serial (and no -nodefaults) is given.
ChardevConfig default_serial(const Config& cfg, bool monitor_on_it) {
    ChardevConfig dev{"serial0", "stdio"};
    if (cfg.display == DisplayKind::Nographic)
        dev.mux = monitor_on_it;  // "mon:stdio"
    else if (cfg.daemonize)
        // QEMU puts it on a virtual console nobody sees; stdio is gone once
        // daemonized, so its output is dropped the same way.
        dev.backend = "null";
    return dev;
}

} // namespace

void handle_serial(ParseState& st, const ArgToken& tok) {
    st.serials.push_back({tok.location(), *tok.value});
}

void finalize_serials(ParseState& st) {
    Config& cfg = st.cfg;
    bool nographic = cfg.display == DisplayKind::Nographic;
    bool default_monitor = !cfg.nodefaults;
    int stdio_users = 0;
    if (nographic && default_monitor && !st.serials.empty()) {
        cfg.chardevs.push_back({"compat_monitor0", "stdio"});
        cfg.monitors.push_back({"compat_monitor0"});
        ++stdio_users;
    }
    for (const LocatedText& arg : st.serials) {
        at_location(arg.location, [&] {
            std::optional<ChardevConfig> dev = parse_serial_backend(arg.text);
            if (!dev)
                return;
            if (dev->backend == "stdio" && cfg.daemonize)
                throw ConfigError("cannot use stdio with -daemonize");
            if (dev->backend == "stdio" && stdio_users++ > 0)
                throw ConfigError("cannot use stdio by multiple character devices");
            if (cfg.serials.size() == kMaxSerialPorts)
                throw ConfigError("too many serial ports (the pc machine has 4)");
            dev->id = "serial" + std::to_string(cfg.serials.size());
            cfg.serials.push_back(dev->id);
            cfg.chardevs.push_back(std::move(*dev));
        });
    }
    if (st.serials.empty() && !cfg.nodefaults) {
        ChardevConfig dev = default_serial(cfg, default_monitor);
        cfg.serials.push_back(dev.id);
        if (dev.mux) cfg.monitors.push_back({dev.id});
        cfg.chardevs.push_back(std::move(dev));
    }
}

void handle_display(ParseState& st, const ArgToken& tok) {
    const std::string& text = *tok.value;
    if (text.starts_with("vnc="))  // QEMU's "-display vnc=<display>" shorthand
        throw ConfigError("Display 'vnc' is not available.");
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
