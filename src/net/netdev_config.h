#pragma once
// A network backend as the command line (-netdev, -nic, -net) or netdev_add
// describes it: plain values, checked by the option parser (src/config),
// opened by the machine (NetClients) once start-up cannot fail any more
// for other reasons.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

inline constexpr const char* kDefaultIfupScript = "/etc/qemu-ifup";
inline constexpr const char* kDefaultIfdownScript = "/etc/qemu-ifdown";
inline constexpr const char* kDefaultBridgeHelper = "/usr/lib/qemu/qemu-bridge-helper";
inline constexpr const char* kDefaultBridge = "br0";
inline constexpr unsigned kMaxTapQueues = 1024;

// -netdev tap (and bridge, which is a tap the helper opens).
struct TapConfig {
    std::string ifname;                       // "" : the kernel picks tapN
    std::string script = kDefaultIfupScript;  // "no" or "": none
    std::string downscript = kDefaultIfdownScript;
    std::vector<int> fds;                     // fd= / fds=: opened by the caller
    std::string helper;                       // tap,helper= or bridge: the helper opens it
    std::string br = kDefaultBridge;          // the helper's bridge
    bool bridge = false;                      // -netdev bridge (info "helper=...,br=...")
    std::optional<bool> vhost;                // vhost=
    bool vhostforce = false;
    std::vector<int> vhostfds;                // vhostfd= / vhostfds=
    unsigned queues = 1;
    std::optional<bool> vnet_hdr;             // unset: use it when the kernel has it
    std::optional<uint64_t> sndbuf;           // unset: unlimited

    bool wants_vhost() const { return vhost.value_or(!vhostfds.empty() || vhostforce); }
};

// -netdev user (libslirp): the options as given (unset: QEMU's default),
// resolved and checked by resolve_user_net (net/user_net_options.h).
struct UserNetConfig {
    std::optional<bool> ipv4, ipv6;
    std::optional<std::string> net;          // "addr[/bits|/mask]"; ip= gives "addr/24"
    std::optional<std::string> host, dhcpstart, dns;
    std::optional<std::string> ipv6_prefix, ipv6_host, ipv6_dns;
    std::optional<int64_t> ipv6_prefixlen;
    std::optional<std::string> hostname, domainname, tftp, tftp_server_name, bootfile;
    std::optional<std::string> smb, smbserver;
    std::vector<std::string> dnssearch;
    bool restrict = false;
    std::vector<std::string> hostfwd;  // "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport"
    std::vector<std::string> guestfwd;
};

struct NetdevConfig {
    std::string location;   // "-netdev tap,..." for messages; "" from the monitor
    std::string id;         // -netdev id=, or generated for -nic / -net
    std::string type;       // "tap", "bridge", "user", "hubport"
    TapConfig tap;
    UserNetConfig user;
    // -net and -netdev hubport: the hub this backend hangs on (its port
    // is "hub<N>port<M>"); -1: none, its peer is a NIC.
    int hub = -1;
};

} // namespace kestrel
