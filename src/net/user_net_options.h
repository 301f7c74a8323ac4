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
    in_addr server{};
    int port = 0;
    std::string command;   // "cmd:COMMAND"
};

// "tcp:[server]:port-cmd:COMMAND". Throws "Invalid guest forwarding rule
// 'R'"; the chardev form (a -chardev per connection) is refused.
GuestFwdRule parse_guestfwd(const std::string& rule);

} // namespace kestrel
