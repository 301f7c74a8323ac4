// -sandbox, -runas (-chroot is a plain path): read as QEMU 7.2 reads them.
// -sandbox's enable is checked at once (a QemuOpts bool); its other values
// only after every option is read, and only for a -sandbox that is on.
#include "config/parse_state.h"

#include <map>

namespace kestrel {

namespace {

// "allow" / "deny" (/ "children") of one key, else QEMU's error.
std::string choice(const std::map<std::string, std::string>& values, const std::string& key, bool children) {
    auto it = values.find(key);
    if (it == values.end()) return "";
    const std::string& v = it->second;
    if (v == "allow" || v == "deny" || (children && v == "children")) return v;
    throw ConfigError("invalid argument for " + key);
}

SandboxConfig sandbox_of(const std::map<std::string, std::string>& values) {
    using Privileges = SandboxConfig::Privileges;
    SandboxConfig s;
    s.enable = true;
    s.deny_obsolete = choice(values, "obsolete", false) != "allow";
    const std::string privileges = choice(values, "elevateprivileges", true);
    s.elevate_privileges = privileges == "deny"       ? Privileges::Deny
                           : privileges == "children" ? Privileges::Children
                                                      : Privileges::Allow;
    s.deny_spawn = choice(values, "spawn", false) == "deny";
    s.deny_resource_control = choice(values, "resourcecontrol", false) == "deny";
    return s;
}

} // namespace

void handle_sandbox(ParseState& st, const ArgToken& tok) {
    auto pairs = split_checked(st, tok, "enable", {"enable", "obsolete", "elevateprivileges", "spawn", "resourcecontrol"});
    at_location(tok.location(), [&] {
        for (const qopts::OptPair& p : pairs)
            if (p.key == "enable") qopts::parse_bool(p.key, p.value);
    });
    st.sandboxes.push_back({tok.location(), std::move(pairs)});
}

// QEMU installs one filter per -sandbox that is on; together they deny
// what any of them denies.
void finalize_sandbox(ParseState& st) {
    SandboxConfig& merged = st.cfg.sandbox;
    merged.deny_obsolete = false;
    for (const PendingOpts& opts : st.sandboxes) {
        std::map<std::string, std::string> values;  // the last value of each key
        for (const qopts::OptPair& p : opts.pairs) values[p.key] = p.value;
        if (!values.count("enable") || !qopts::parse_bool("enable", values["enable"])) continue;
        const SandboxConfig s = at_location(opts.location, [&] { return sandbox_of(values); });
        merged.enable = true;
        merged.deny_obsolete |= s.deny_obsolete;
        merged.elevate_privileges = std::max(merged.elevate_privileges, s.elevate_privileges);
        merged.deny_spawn |= s.deny_spawn;
        merged.deny_resource_control |= s.deny_resource_control;
    }
    if (!merged.enable) merged = SandboxConfig{};
}

void handle_runas(ParseState& st, const ArgToken& tok) {
    st.cfg.runas = parse_runas(*tok.value);
    if (!st.cfg.runas)
        throw ConfigError(tok.location() + ": User \"" + *tok.value + "\" doesn't exist (and is not <uid>:<gid>)");
}

} // namespace kestrel
