#pragma once
// -netdev user's addresses and forwarding rules as QEMU 7.2 (net/slirp.c)
// reads them: pure functions, so the option parser checks them before any
// side effect and the backend opens libslirp with the same values. Errors
// are std::runtime_error with QEMU's texts.
#include "net/netdev_config.h"

#include <netinet/in.h>
#include <string>

namespace kestrel {

struct UserNetAddresses {
    bool ipv4 = true, ipv6 = true;
    in_addr net{}, mask{}, host{}, dhcp{}, dns{};
    in6_addr prefix6{}, host6{}, dns6{};
    int prefix6_len = 64;
};

UserNetAddresses resolve_user_net(const UserNetConfig& config);

// The checks QEMU makes on names and files (lengths, smb=, guestfwd= syntax).
void check_user_net_names(const UserNetConfig& config);

struct HostFwdRule {
    bool udp = false;
    in_addr host_addr{};     // INADDR_ANY when not given
    int host_port = 0;
    in_addr guest_addr{};    // 0: the DHCP start address (slirp picks it)
    int guest_port = 0;
};

// "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport". Throws "Invalid
// host forwarding rule 'R' (reason)".
HostFwdRule parse_hostfwd(const std::string& rule);

// hostfwd_remove's "[tcp|udp]:[hostaddr]:hostport"; false when malformed
// (QEMU prints "invalid format").
bool parse_hostfwd_remove(const std::string& rule, HostFwdRule& out);

struct GuestFwdRule {
    in_addr server{};      // 0: slirp's default (the network's .4)
    int port = 0;
    bool exec = false;     // "cmd:COMMAND": slirp runs the command per connection
    std::string command;   // exec: COMMAND
    std::string chardev;   // otherwise: a chardev spec ("tcp:HOST:PORT", "chardev:ID", ...)

    bool to_chardev() const { return !exec; }
    // QEMU's label for the chardev the spec creates: "guestfwd.tcp.PORT".
    std::string chardev_label() const { return "guestfwd.tcp." + std::to_string(port); }
    // The id of the chardev the rule uses: ID for "chardev:ID", else the label.
    std::string chardev_id() const;
};

// "[tcp]:[server]:port-cmd:COMMAND" or "[tcp]:[server]:port-DEV" (DEV a
// chardev spec as -serial takes it, or "chardev:ID"). Throws "Invalid guest
// forwarding rule 'R'" for a bad address or port; the spec is checked when
// its chardev is made.
GuestFwdRule parse_guestfwd(const std::string& rule);

} // namespace kestrel
