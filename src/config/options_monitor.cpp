// -chardev, -monitor, -qmp, -qmp-pretty, -mon, and the monitor -nographic
// adds. As in QEMU, option syntax is checked as each option is read; the
// chardevs are created after all options (command-line order, then the
// default monitor's), then the monitors attach to them; serial ports come
// last (options_serial_display.cpp).
#include "config/chardev_opts.h"

#include <algorithm>

namespace kestrel {

namespace {

bool is_help(const std::optional<std::string>& backend) {
    return backend && (*backend == "help" || *backend == "?");
}

// QEMU keeps monitors in an option list of their own, whose ids must be unique.
void add_monitor_id(ParseState& st, const std::string& id) {
    if (std::find(st.monitor_ids.begin(), st.monitor_ids.end(), id) != st.monitor_ids.end())
        throw ConfigError("Duplicate ID '" + id + "' for mon");
    st.monitor_ids.push_back(id);
}

// -monitor, -qmp, -qmp-pretty: "chardev:ID" or a shorthand, whose chardev is
// named "compat_monitorN" (N counts these options, "chardev:" ones too).
void add_shorthand_monitor(ParseState& st, const std::string& location, const std::string& text,
                           const char* mode, bool pretty) {
    std::string label;
    at_location(location, [&] {
        if (text.starts_with("chardev:")) {
            label = text.substr(8);
        } else {
            label = "compat_monitor" + std::to_string(st.monitor_index);
            std::optional<PendingChardev> p = parse_chardev_shorthand(st, location, label, text);
            if (!p)
                throw ConfigError("parse error: " + text);
            st.chardevs.push_back(std::move(*p));
        }
        add_monitor_id(st, label);
    });
    st.monitors.push_back({location, label, mode, pretty});
    ++st.monitor_index;
}

void apply_mon_option(PendingMonitor& mon, const qopts::OptPair& pair) {
    if (pair.key == "chardev")
        mon.chardev = pair.value;
    else if (pair.key == "mode")
        mon.mode = pair.value;
    else if (pair.key == "pretty")
        mon.pretty = qopts::parse_bool(pair.key, pair.value);
    else
        throw ConfigError("Invalid parameter '" + pair.key + "'");
}

// The HMP QEMU adds when no monitor option (and no -nodefaults) is given:
// on stdio with -nographic when a serial port is given (without one, the
// default serial port is "mon:stdio" and carries it). QEMU's other default,
// a virtual console, does not exist in kestrel.
void add_default_monitor(ParseState& st) {
    const Config& cfg = st.cfg;
    bool default_serial = st.serials.empty() && !cfg.nodefaults;
    bool default_monitor = st.default_monitor && !cfg.nodefaults;
    if (cfg.display != DisplayKind::Nographic || !default_monitor || default_serial)
        return;
    std::string label = "compat_monitor" + std::to_string(st.monitor_index);
    std::optional<PendingChardev> p = parse_chardev_shorthand(st, "", label, "stdio");
    st.chardevs.push_back(std::move(*p));
    st.monitors.push_back({"", label, "readline", false});
}

void init_monitor(ParseState& st, const PendingMonitor& mon) {
    if (mon.mode != "readline" && mon.mode != "control")
        throw ConfigError("Parameter 'mode' does not accept value '" + mon.mode + "'");
    if (!mon.chardev)
        throw ConfigError("Parameter 'chardev' is missing");
    const std::string& id = *mon.chardev;
    bool exists = std::any_of(st.cfg.chardevs.begin(), st.cfg.chardevs.end(),
                              [&](const ChardevConfig& d) { return d.id == id; });
    if (!exists)
        throw ConfigError("chardev \"" + id + "\" not found");
    bool control = mon.mode == "control";
    if (mon.pretty && !control)
        throw ConfigError("'pretty' is not compatible with HMP monitors");
    attach_frontend(st, id);
    st.cfg.monitors.push_back({id, control, mon.pretty});
}

} // namespace

void handle_chardev(ParseState& st, const ArgToken& tok) {
    PendingChardev p;
    p.location = tok.location();
    at_location(p.location, [&] { apply_chardev_options(st, p.location, *tok.value, "backend", p); });
    if (is_help(p.backend)) {
        st.chardev_help = true;
        return;
    }
    st.chardevs.push_back(std::move(p));
}

void handle_monitor(ParseState& st, const ArgToken& tok) {
    st.default_monitor = false;
    if (tok.value->starts_with("none"))  // QEMU compares only these 4 letters
        return;
    add_shorthand_monitor(st, tok.location(), *tok.value, "readline", false);
}

void handle_qmp(ParseState& st, const ArgToken& tok) {
    st.default_monitor = false;
    add_shorthand_monitor(st, tok.location(), *tok.value, "control", false);
}

void handle_qmp_pretty(ParseState& st, const ArgToken& tok) {
    st.default_monitor = false;
    add_shorthand_monitor(st, tok.location(), *tok.value, "control", true);
}

void handle_mon(ParseState& st, const ArgToken& tok) {
    st.default_monitor = false;
    PendingMonitor mon;
    mon.location = tok.location();
    auto pairs = at_location(mon.location, [&] {
        return qopts::split(*tok.value, "chardev", qopts::Syntax::QemuOpts).pairs;
    });
    for (const qopts::OptPair& pair : pairs)
        if (pair.short_form)
            st.warn(mon.location, qopts::short_form_warning(pair));
    at_location(mon.location, [&] {
        for (const qopts::OptPair& pair : pairs) {
            if (pair.key != "id")
                continue;
            if (!is_qemu_identifier(pair.value))
                throw ConfigError("Parameter 'id' expects an identifier");
            add_monitor_id(st, pair.value);
        }
        for (const qopts::OptPair& pair : pairs)
            if (pair.key != "id")
                apply_mon_option(mon, pair);
    });
    st.monitors.push_back(std::move(mon));
}

void finalize_monitors(ParseState& st) {
    add_default_monitor(st);
    for (const PendingChardev& p : st.chardevs)
        at_location(p.location, [&] { create_chardev(st, p); });
    for (const PendingMonitor& mon : st.monitors)
        at_location(mon.location, [&] { init_monitor(st, mon); });
}

} // namespace kestrel
