// netdev_add, netdev_del, set_link, query-rx-filter and the
// NIC_RX_FILTER_CHANGED event, from the machine's NetService, with QEMU
// 7.2's QAPI names.
#include "config/net_opts.h"
#include "monitor/net_commands.h"
#include "monitor/qmp/monitor_fds.h"
#include "monitor/qmp/qmp_commands.h"
#include "net/guestfwd_chardevs.h"

#include <cctype>
#include <cstdio>

namespace kestrel::qmp {

namespace {

SchemaMember opt(std::string name, std::string type) { return {std::move(name), std::move(type), true}; }

NetService& net(VmControl& vm) {
    NetService* service = net_service_of(vm);
    if (!service) throw MonitorError("no network");
    return *service;
}

// QEMU's Netdev is a union on "type"; kestrel's schema has no unions, so
// one object holds the members of the types kestrel has.
void add_net_types(Schema& s) {
    if (!s.has("String")) s.add_object("String", {{"str", "str"}});
    s.add_enum("NetClientDriver", {"none", "nic", "user", "tap", "l2tpv3", "socket", "stream", "dgram", "vde",
                                   "bridge", "hubport", "netmap", "vhost-user", "vhost-vdpa"});
    s.add_object("Netdev", {{"id", "str"}, {"type", "NetClientDriver"}, opt("ifname", "str"), opt("fd", "str"),
                            opt("fds", "str"), opt("script", "str"), opt("downscript", "str"), opt("br", "str"),
                            opt("helper", "str"), opt("sndbuf", "int"), opt("vnet_hdr", "bool"),
                            opt("vhost", "bool"), opt("vhostfd", "str"), opt("vhostfds", "str"),
                            opt("vhostforce", "bool"), opt("queues", "int"), opt("poll-us", "int"),
                            opt("hubid", "int"), opt("netdev", "str"),
                            // NetdevUserOptions
                            opt("hostname", "str"), opt("restrict", "bool"), opt("ipv4", "bool"),
                            opt("ipv6", "bool"), opt("ip", "str"), opt("net", "str"), opt("host", "str"),
                            opt("tftp", "str"), opt("bootfile", "str"), opt("dhcpstart", "str"), opt("dns", "str"),
                            opt("dnssearch", "[String]"), opt("domainname", "str"), opt("ipv6-prefix", "str"),
                            opt("ipv6-prefixlen", "int"), opt("ipv6-host", "str"), opt("ipv6-dns", "str"),
                            opt("smb", "str"), opt("smbserver", "str"), opt("hostfwd", "[String]"),
                            opt("guestfwd", "[String]"), opt("tftp-server-name", "str")});
    s.add_object("q_obj_netdev_del-arg", {{"id", "str"}});
    s.add_object("q_obj_set_link-arg", {{"name", "str"}, {"up", "bool"}});
    s.add_object("q_obj_query-rx-filter-arg", {opt("name", "str")});
    s.add_enum("RxState", {"normal", "none", "all"});
    s.add_object("RxFilterInfo",
                 {{"name", "str"}, {"promiscuous", "bool"}, {"multicast", "RxState"}, {"unicast", "RxState"},
                  {"vlan", "RxState"}, {"broadcast-allowed", "bool"}, {"multicast-overflow", "bool"},
                  {"unicast-overflow", "bool"}, {"main-mac", "str"}, {"vlan-table", "[int]"},
                  {"unicast-table", "[str]"}, {"multicast-table", "[str]"}});
    s.add_object("q_obj_NIC_RX_FILTER_CHANGED-arg", {opt("name", "str"), {"path", "str"}});
}

// QEMU's monitor_fd_param for fd=, fds=, vhostfd= and vhostfds=: an entry
// that does not start with a digit names a descriptor the client sent with
// getfd (libvirt's attach-interface); the netdev takes it over and the name
// is gone, as in QEMU. The tap closes it if it fails; should the options
// fail before the tap opens, it stays open (bounded by what the client sends).
std::string take_named_fds(MonitorFds* fds, const std::string& text) {
    std::string out;
    for (size_t start = 0;;) {
        size_t colon = text.find(':', start);
        std::string item = text.substr(start, colon - start);
        if (!item.empty() && !std::isdigit(static_cast<unsigned char>(item[0]))) {
            const std::string missing = "File descriptor named '" + item + "' has not been found";
            if (!fds) throw MonitorError(missing);
            auto it = fds->named.find(item);
            if (it == fds->named.end()) throw MonitorError(missing);
            item = std::to_string(it->second.release());
            fds->named.erase(it);
        }
        out += item;
        if (colon == std::string::npos) return out;
        out += ':';
        start = colon + 1;
    }
}

void take_named_fds(MonitorFds* fds, std::vector<qopts::OptPair>& pairs) {
    for (qopts::OptPair& p : pairs)
        if (p.key == "fd" || p.key == "fds" || p.key == "vhostfd" || p.key == "vhostfds")
            p.value = take_named_fds(fds, p.value);
}

// The members as -netdev's key=value pairs (booleans as on/off; a list of
// Strings as the key repeated, as hostfwd= is on the command line).
std::vector<qopts::OptPair> netdev_pairs(const Json& args) {
    std::vector<qopts::OptPair> pairs;
    for (auto it = args.begin(); it != args.end(); ++it) {
        const Json& v = it.value();
        if (v.is_array()) {
            for (const Json& item : v) pairs.push_back({it.key(), item.at("str").get<std::string>()});
            continue;
        }
        std::string text = v.is_boolean() ? (v.get<bool>() ? "on" : "off")
                           : v.is_string() ? v.get<std::string>()
                                           : v.dump();
        pairs.push_back({it.key(), text});
    }
    return pairs;
}

Json rx_filter_json(const RxFilterInfo& f) {
    Json j = Json::object();
    j["name"] = f.name;
    j["promiscuous"] = f.promiscuous;
    j["multicast"] = f.multicast;
    j["unicast"] = f.unicast;
    j["vlan"] = f.vlan;
    j["broadcast-allowed"] = f.broadcast_allowed;
    j["multicast-overflow"] = f.multicast_overflow;
    j["unicast-overflow"] = f.unicast_overflow;
    j["main-mac"] = f.main_mac;
    j["vlan-table"] = f.vlan_table;
    j["unicast-table"] = f.unicast_table;
    j["multicast-table"] = f.multicast_table;
    return j;
}

} // namespace

void add_net_commands(QmpCommandTable& table, Schema& schema, QmpServices& services, MonitorFds* fds) {
    add_net_types(schema);
    VmControl& vm = services.vm;
    table.add({"netdev_add", "Netdev", "q_empty", [&vm, fds](const Json& args) {
        with_net_errors([&] {
            try {
                std::vector<qopts::OptPair> pairs = netdev_pairs(args);
                take_named_fds(fds, pairs);
                net(vm).add_netdev(parse_netdev(pairs));
            } catch (const NetdevIdTaken& e) {
                throw MonitorError("Duplicate ID '" + e.id + "'");
            } catch (const GuestFwdOpenError& e) {  // QEMU's error_report under QMP: stderr, no prefix
                if (!e.reason.empty()) std::fprintf(stderr, "%s\n", e.reason.c_str());
                throw;
            }
        });
        return Json::object();
    }});
    table.add({"netdev_del", "q_obj_netdev_del-arg", "q_empty", [&vm](const Json& args) {
        with_net_errors([&] { net(vm).remove_netdev(args.at("id").get<std::string>()); });
        return Json::object();
    }});
    table.add({"set_link", "q_obj_set_link-arg", "q_empty", [&vm](const Json& args) {
        with_net_errors([&] { net(vm).set_link(args.at("name").get<std::string>(), args.at("up").get<bool>()); });
        return Json::object();
    }});
    table.add({"query-rx-filter", "q_obj_query-rx-filter-arg", "[RxFilterInfo]", [&vm](const Json& args) {
        Json name = optional_arg(args, "name");
        Json list = Json::array();
        with_net_errors([&] {
            std::optional<std::string> wanted;
            if (name.is_string()) wanted = name.get<std::string>();
            NetService* service = net_service_of(vm);
            if (!service) {
                if (wanted) throw MonitorError("invalid net client name: " + *wanted);
                return;
            }
            for (const RxFilterInfo& f : service->rx_filters(wanted)) list.push_back(rx_filter_json(f));
        });
        return list;
    }});
}

} // namespace kestrel::qmp
