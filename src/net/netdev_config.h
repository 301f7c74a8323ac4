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

// -netdev user (libslirp).
struct UserNetConfig {
    bool ipv4 = true, ipv6 = true;
    std::string net = "10.0.2.0";   // network address
    unsigned prefix = 24;
    std::string host = "10.0.2.2";
    std::string dhcpstart = "10.0.2.15";
    std::string dns = "10.0.2.3";
    std::string ipv6_prefix = "fec0::";
    unsigned ipv6_prefixlen = 64;
    std::string ipv6_host = "fec0::2";
    std::string ipv6_dns = "fec0::3";
    std::string hostname;
    std::string domainname;
    std::vector<std::string> dnssearch;
    bool restrict = false;
    std::string tftp;
    std::string tftp_server_name;
    std::string bootfile;
    std::vector<std::string> hostfwd;  // "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport"
    std::vector<std::string> guestfwd;
    bool net_given = false;            // net= was given (info network shows it either way)
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
