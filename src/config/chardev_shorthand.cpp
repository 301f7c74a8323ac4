// The shorthand chardev syntax of -serial, -monitor and -qmp (QEMU's
// "compat" syntax), turned into the same options -chardev would give.
#include "config/chardev_opts.h"

namespace kestrel {

namespace {

struct HostPort {
    std::string host;
    std::string port;
    size_t end = 0;  // index just after the port
};

// "HOST:PORT" or ":PORT" as QEMU scans them: at most 64 characters of host
// (no ':'), at most 32 of port, which ends at one of `stops` or at the end.
std::optional<HostPort> scan_host_port(std::string_view text, std::string_view stops) {
    constexpr size_t kMaxHost = 64, kMaxPort = 32;
    HostPort hp;
    size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon > kMaxHost)
        return std::nullopt;
    hp.host = text.substr(0, colon);
    size_t start = colon + 1, len = 0;
    while (start + len < text.size() && len < kMaxPort &&
           stops.find(text[start + len]) == std::string_view::npos)
        ++len;
    if (len == 0)
        return std::nullopt;
    hp.port = text.substr(start, len);
    hp.end = start + len;
    return hp;
}

bool is_plain_backend(std::string_view spec) {
    for (std::string_view name : {"null", "pty", "msmouse", "wctablet", "braille", "testdev", "stdio"})
        if (spec == name) return true;
    return false;
}

// "tcp:", "telnet:", "tn3270:", "websocket:" (the last three are refused
// later: kestrel has no telnet or websocket framing).
bool parse_tcp(ParseState& st, std::string_view rest, std::string_view protocol, PendingChardev& p) {
    std::optional<HostPort> hp = scan_host_port(rest, ",");
    if (!hp)
        return false;
    set_chardev_option(p, "backend", "socket");
    set_chardev_option(p, "host", hp->host);
    set_chardev_option(p, "port", hp->port);
    if (hp->end < rest.size() && rest[hp->end] == ',')
        apply_chardev_options(st, p.location, rest.substr(hp->end + 1), "", p);
    if (protocol != "tcp")
        set_chardev_option(p, std::string(protocol), "on");
    return true;
}

bool parse_udp(std::string_view rest, PendingChardev& p) {
    std::optional<HostPort> remote = scan_host_port(rest, "@,");
    if (!remote)
        return false;
    set_chardev_option(p, "backend", "udp");
    set_chardev_option(p, "host", remote->host);
    set_chardev_option(p, "port", remote->port);
    if (remote->end < rest.size() && rest[remote->end] == '@') {
        std::optional<HostPort> local = scan_host_port(rest.substr(remote->end + 1), ",");
        if (!local)
            return false;
        set_chardev_option(p, "localaddr", local->host);
        set_chardev_option(p, "localport", local->port);
    }
    return true;
}

// The forms whose backend has no kestrel implementation; creating them
// reports "not supported by kestrel".
bool parse_other_qemu_form(std::string_view spec, PendingChardev& p) {
    if (spec.starts_with("vc")) {
        set_chardev_option(p, "backend", "vc");
    } else if (spec == "con:") {
        set_chardev_option(p, "backend", "console");
    } else if (spec.starts_with("/dev/parport") || spec.starts_with("/dev/ppi")) {
        set_chardev_option(p, "backend", "parallel");
    } else if (spec.starts_with("COM") || spec.starts_with("/dev/")) {
        set_chardev_option(p, "backend", "serial");
    } else {
        return false;
    }
    set_chardev_option(p, "path", std::string(spec));
    return true;
}

bool parse_form(ParseState& st, std::string_view spec, PendingChardev& p) {
    if (is_plain_backend(spec)) {
        set_chardev_option(p, "backend", std::string(spec));
        return true;
    }
    for (std::string_view kind : {"file", "pipe"}) {
        if (spec.starts_with(kind) && spec.substr(kind.size()).starts_with(":")) {
            set_chardev_option(p, "backend", std::string(kind));
            set_chardev_option(p, "path", std::string(spec.substr(kind.size() + 1)));
            return true;
        }
    }
    for (std::string_view protocol : {"tcp", "telnet", "tn3270", "websocket"}) {
        if (spec.starts_with(protocol) && spec.substr(protocol.size()).starts_with(":"))
            return parse_tcp(st, spec.substr(protocol.size() + 1), protocol, p);
    }
    if (spec.starts_with("udp:"))
        return parse_udp(spec.substr(4), p);
    if (spec.starts_with("unix:")) {
        set_chardev_option(p, "backend", "socket");
        apply_chardev_options(st, p.location, spec.substr(5), "path", p);
        return true;
    }
    if (parse_other_qemu_form(spec, p))
        return true;
    throw ConfigError("'" + std::string(spec) + "' is not a valid char driver");
}

} // namespace

std::optional<PendingChardev> parse_chardev_shorthand(ParseState& st, const std::string& location,
                                                      const std::string& label,
                                                      const std::string& text) {
    check_chardev_id_free(st, label);  // QEMU names the options first
    PendingChardev p;
    p.location = location;
    p.dev.id = label;
    std::string_view spec = text;
    if (spec.starts_with("mon:")) {
        spec.remove_prefix(4);
        p.dev.mux = true;
        // A monitor muxed on stdio passes Ctrl-C to the guest (as -nographic).
        if (spec == "stdio")
            set_chardev_option(p, "signal", "off");
    }
    if (!parse_form(st, spec, p))
        return std::nullopt;
    return p;
}

} // namespace kestrel
