#pragma once
// The chardevs of guestfwd= rules given at run time (netdev_add), as QEMU's
// slirp_guestfwd gets them: "chardev:ID" claims that chardev, a device
// spec ("tcp:HOST:PORT", "null", ...) creates the chardev
// "guestfwd.tcp.PORT". The machine implements it (it parses the spec as
// the command line does); the network only holds the interface.
#include "net/user_net_options.h"

#include <stdexcept>
#include <string>

namespace kestrel {

class Chardev;

// QEMU's "Could not open guest forwarding device 'L'"; `reason` is what
// QEMU reports before it (on an HMP session, or on stderr under QMP),
// empty where QEMU says nothing more.
struct GuestFwdOpenError : std::runtime_error {
    GuestFwdOpenError(const std::string& label, std::string why)
        : std::runtime_error("Could not open guest forwarding device '" + label + "'"), reason(std::move(why)) {}
    std::string reason;
};

class GuestFwdChardevs {
public:
    virtual ~GuestFwdChardevs() = default;
    // The chardev `rule` talks through, claimed for it. Throws
    // GuestFwdOpenError, or std::runtime_error "Device 'ID' is in use".
    virtual Chardev& open(const GuestFwdRule& rule) = 0;
    // Deletes the chardev `id` a rule used once the rule has let go of it,
    // as QEMU's netdev_del does (qemu_chr_fe_deinit with del).
    virtual void remove(const std::string& id) = 0;
};

} // namespace kestrel
