#pragma once
// What the monitors ask of the machine's network (registered in its
// ServiceRegistry by NetClients): info network, set_link, netdev_add and
// netdev_del, query-rx-filter. Loop thread only.
#include "net/netdev_config.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kestrel {

// QMP's RxFilterInfo.
struct RxFilterInfo {
    std::string name;
    bool promiscuous = false;
    std::string multicast = "normal";   // RxState: normal, none, all
    std::string unicast = "normal";
    std::string vlan = "normal";
    bool broadcast_allowed = false;
    bool multicast_overflow = false;
    bool unicast_overflow = false;
    std::string main_mac;
    std::vector<int64_t> vlan_table;
    std::vector<std::string> unicast_table;
    std::vector<std::string> multicast_table;
};

// A name no net client has (QMP class DeviceNotFound).
struct NetClientNotFound : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A netdev id already taken. The message is the command line's and HMP's
// ("Duplicate ID 'x' for netdev"); QMP's netdev_add says "Duplicate ID 'x'".
struct NetdevIdTaken : std::runtime_error {
    explicit NetdevIdTaken(const std::string& taken)
        : std::runtime_error("Duplicate ID '" + taken + "' for netdev"), id(taken) {}
    std::string id;
};

class NetService {
public:
    virtual ~NetService() = default;

    // "info network": hubs, then each NIC with its backend, then backends
    // without a NIC, in QEMU's layout (lines end in "\n").
    virtual std::string info_network() const = 0;
    // set_link NAME on|off: NAME is a NIC or a netdev (both ends of a
    // NIC-backend pair change). Throws NetClientNotFound.
    virtual void set_link(const std::string& name, bool up) = 0;
    // Opens a backend as -netdev would. Throws std::runtime_error with
    // QEMU's text ("Duplicate ID 'x' for netdev", the open error).
    virtual void add_netdev(const NetdevConfig& config) = 0;
    // Throws NetClientNotFound, or std::runtime_error for a netdev that
    // -net or -nic made ("Device 'x' is not a netdev").
    virtual void remove_netdev(const std::string& id) = 0;
    // query-rx-filter: every NIC, or the one named. Re-arms the NIC's
    // NIC_RX_FILTER_CHANGED event. Throws std::runtime_error with QEMU's texts.
    virtual std::vector<RxFilterInfo> rx_filters(const std::optional<std::string>& name) = 0;

    // User networking's monitor commands, as QEMU 7.2's HMP prints them:
    // "info usernet", and hostfwd_add / hostfwd_remove on the netdev named
    // (or the first user network). They return the text to print.
    virtual std::string info_usernet() const = 0;
    virtual std::string hostfwd_add(const std::optional<std::string>& netdev, const std::string& rule) = 0;
    virtual std::string hostfwd_remove(const std::optional<std::string>& netdev, const std::string& rule) = 0;
};

} // namespace kestrel
