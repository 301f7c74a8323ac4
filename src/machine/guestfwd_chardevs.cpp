#include "machine/guestfwd_chardevs.h"

#include "base/config_error.h"
#include "config/chardev_opts.h"

#include <algorithm>

namespace kestrel {

namespace {

std::string cannot_open(const std::string& label) {
    return GuestFwdOpenError(label, "").what();
}

} // namespace

// As QEMU's slirp_guestfwd at run time: "chardev:ID" finds the chardev
// (silently nothing when there is none), anything else creates one; the
// reasons QEMU reports before "Could not open ..." travel in the error.
Chardev& MachineGuestFwdChardevs::open(const GuestFwdRule& rule) {
    const std::string label = rule.chardev_label();
    if (rule.chardev.starts_with("chardev:")) {
        if (!chardevs_.has(rule.chardev_id())) throw GuestFwdOpenError(label, "");
        return chardevs_.claim(rule.chardev_id());  // "Device 'ID' is in use"
    }
    ChardevConfig dev;
    try {
        dev = parse_spec(rule);
    } catch (const ConfigError& e) {
        throw GuestFwdOpenError(label, e.what());
    }
    try {
        return chardevs_.add(dev);
    } catch (const std::runtime_error& e) {
        throw GuestFwdOpenError(label, e.what());
    }
}

// The command line's chardevs keep their options in QEMU ("Duplicate ID");
// a chardev an earlier rule created has none left, and QEMU trips over
// the object instead.
ChardevConfig MachineGuestFwdChardevs::parse_spec(const GuestFwdRule& rule) const {
    const std::string label = rule.chardev_label();
    ParseState st;
    st.cfg.chardevs = chardevs_.configs();
    for (const ChardevConfig& c : st.cfg.chardevs)
        if (c.id == label && c.open_failure == cannot_open(label))
            throw ConfigError("attempt to add duplicate property '" + label + "' to object (type 'container')");
    std::optional<PendingChardev> p = parse_chardev_shorthand(st, "", label, rule.chardev);
    if (!p) throw ConfigError("");
    if (p->dev.mux) throw ConfigError("kestrel cannot add a monitor (\"mon:\") at run time");
    p->dev.open_failure = cannot_open(label);
    create_chardev(st, *p);
    return st.cfg.chardevs.back();
}

} // namespace kestrel
