// -netdev, -nic and -net as QEMU 7.2 reads them. Each option's syntax and
// id are checked when met; the backends are built once every option is
// read, in QEMU's order: all -netdev, then -nic, then -net (each -net joins
// hub 0). NICs that -nic and -net ask for become board devices
// (finalize_devices places them after the board's own).
#include "config/block_opts.h"
#include "config/chardev_opts.h"
#include "config/json_keys.h"
#include "config/net_opts.h"
#include "devices/device_types.h"
#include "net/user_net_options.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <fmt/format.h>
#include <map>
#include <random>

namespace kestrel {

namespace {

constexpr std::string_view kQemuNetdevTypes[] = {"socket", "stream", "dgram", "hubport", "tap", "user",
                                                 "l2tpv3", "vde", "bridge", "vhost-user", "vhost-vdpa"};
constexpr std::string_view kTapKeys[] = {"ifname", "fd", "fds", "script", "downscript", "br", "helper",
                                         "sndbuf", "vnet_hdr", "vhost", "vhostfd", "vhostfds",
                                         "vhostforce", "queues", "poll-us"};
constexpr std::string_view kBridgeKeys[] = {"br", "helper"};
constexpr std::string_view kUserKeys[] = {
    "hostname", "restrict", "ipv4", "ipv6", "ip", "net", "host", "tftp", "bootfile", "dhcpstart", "dns",
    "dnssearch", "domainname", "ipv6-prefix", "ipv6-prefixlen", "ipv6-host", "ipv6-dns", "smb", "smbserver",
    "hostfwd", "guestfwd", "tftp-server-name", "ipv6-net"};
constexpr std::string_view kHubportKeys[] = {"hubid", "netdev"};
constexpr std::string_view kNetNicKeys[] = {"netdev", "macaddr", "model", "addr", "vectors"};

bool is_help(std::string_view s) { return s == "help" || s == "?"; }

template <size_t N> bool contains(const std::string_view (&list)[N], std::string_view key) {
    return std::find(std::begin(list), std::end(list), key) != std::end(list);
}

std::span<const std::string_view> keys_of(std::string_view type) {
    if (type == "tap") return kTapKeys;
    if (type == "bridge") return kBridgeKeys;
    if (type == "user") return kUserKeys;
    if (type == "hubport") return kHubportKeys;
    return {};
}

const std::string* last_value(const std::vector<qopts::OptPair>& pairs, std::string_view key) {
    const std::string* value = nullptr;
    for (const qopts::OptPair& p : pairs)
        if (p.key == key) value = &p.value;
    return value;
}

uint64_t parse_uint(const std::string& key, const std::string& text, uint64_t max) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), &end, 0);
    if (text.empty() || *end != '\0' || errno == ERANGE || text.find('-') != std::string::npos)
        throw ConfigError("Parameter '" + key + "' expects a uint64 value");
    if (v > max) throw ConfigError("Parameter '" + key + "' expects a value in range [0, " + std::to_string(max) + "]");
    return v;
}

// A descriptor number given on the command line: it must be open here.
int parse_fd(const std::string& id, const std::string& text) {
    char* end = nullptr;
    errno = 0;
    long fd = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || fd < 0 || fd > INT_MAX)
        throw ConfigError("Invalid file descriptor number '" + text + "'");
    if (fcntl(int(fd), F_GETFL) < 0)
        throw ConfigError(id + ": Can't use file descriptor " + std::to_string(fd) + ": Bad file descriptor");
    return int(fd);
}

std::vector<int> parse_fd_list(const std::string& id, const std::string& text) {
    std::vector<int> fds;
    size_t start = 0;
    for (;;) {
        size_t colon = text.find(':', start);
        fds.push_back(parse_fd(id, text.substr(start, colon - start)));
        if (colon == std::string::npos || colon + 1 == text.size()) break;  // QEMU ignores a last ':'
        start = colon + 1;
    }
    if (fds.size() > kMaxTapQueues) throw ConfigError("Too many fds: at most " + std::to_string(kMaxTapQueues));
    return fds;
}

// QEMU's net_init_tap checks, in its order, made here before anything opens.
void check_tap_combinations(const std::vector<qopts::OptPair>& p) {
    auto has = [&](std::string_view key) { return last_value(p, key) != nullptr; };
    if (has("fd")) {
        if (has("ifname") || has("script") || has("downscript") || has("vnet_hdr") || has("helper") ||
            has("queues") || has("fds") || has("vhostfds"))
            throw ConfigError("ifname=, script=, downscript=, vnet_hdr=, helper=, queues=, fds=, and vhostfds= "
                              "are invalid with fd=");
    } else if (has("fds")) {
        if (has("ifname") || has("script") || has("downscript") || has("vnet_hdr") || has("helper") ||
            has("queues") || has("vhostfd"))
            throw ConfigError("ifname=, script=, downscript=, vnet_hdr=, helper=, queues=, and vhostfd= are "
                              "invalid with fds=");
    } else if (has("helper")) {
        if (has("ifname") || has("script") || has("downscript") || has("vnet_hdr") || has("queues") ||
            has("vhostfds"))
            throw ConfigError("ifname=, script=, downscript=, vnet_hdr=, queues=, and vhostfds= are invalid "
                              "with helper=");
    } else if (has("vhostfds")) {
        throw ConfigError("vhostfds= is invalid if fds= wasn't specified");
    }
}

TapConfig parse_tap(const std::string& id, const std::vector<qopts::OptPair>& p) {
    check_tap_combinations(p);
    TapConfig t;
    if (auto* v = last_value(p, "ifname")) t.ifname = *v;
    if (auto* v = last_value(p, "script")) t.script = *v;
    if (auto* v = last_value(p, "downscript")) t.downscript = *v;
    if (auto* v = last_value(p, "helper")) t.helper = *v;
    if (auto* v = last_value(p, "br")) t.br = *v;
    if (auto* v = last_value(p, "vnet_hdr")) t.vnet_hdr = qopts::parse_bool("vnet_hdr", *v);
    if (auto* v = last_value(p, "vhost")) t.vhost = qopts::parse_bool("vhost", *v);
    if (auto* v = last_value(p, "vhostforce")) t.vhostforce = qopts::parse_bool("vhostforce", *v);
    if (auto* v = last_value(p, "sndbuf")) {
        uint64_t size = 0;
        if (qopts::to_size(*v, size) != qopts::SizeStatus::Ok) throw ConfigError("Parameter 'sndbuf' expects a size value");
        t.sndbuf = size;
    }
    if (auto* v = last_value(p, "poll-us")) parse_uint("poll-us", *v, UINT32_MAX);
    if (auto* v = last_value(p, "queues")) {
        t.queues = unsigned(parse_uint("queues", *v, UINT32_MAX));
        if (t.queues < 1 || t.queues > kMaxTapQueues)
            throw ConfigError("queues=" + *v + " is out of range: a tap has 1 to " + std::to_string(kMaxTapQueues) +
                              " queues");
    }
    if (auto* v = last_value(p, "fd")) t.fds = {parse_fd(id, *v)};
    if (auto* v = last_value(p, "fds")) t.fds = parse_fd_list(id, *v);
    if (!t.fds.empty()) t.queues = unsigned(t.fds.size());
    if (auto* v = last_value(p, "vhostfd")) t.vhostfds = {parse_fd(id, *v)};
    if (auto* v = last_value(p, "vhostfds")) {
        t.vhostfds = parse_fd_list(id, *v);
        if (t.vhostfds.size() != t.fds.size())
            throw ConfigError("The number of fds passed does not match the number of vhostfds passed");
    }
    if (!t.vhostfds.empty() && t.vhost == false) throw ConfigError("vhostfd(s)= is not valid without vhost");
    if (!t.vhostfds.empty() && t.vhostfds.size() != t.queues)
        throw ConfigError("vhostfd= gives one vhost-net device for a tap of " + std::to_string(t.queues) + " queues");
    return t;
}

std::optional<std::string> opt_string(const std::vector<qopts::OptPair>& p, std::string_view key) {
    if (const std::string* v = last_value(p, key)) return *v;
    return std::nullopt;
}

std::vector<std::string> all_values(const std::vector<qopts::OptPair>& p, std::string_view key) {
    std::vector<std::string> out;
    for (const qopts::OptPair& pair : p)
        if (pair.key == key) out.push_back(pair.value);
    return out;
}

int64_t parse_int64(const std::string& key, const std::string& text, const char* expects) {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(text.c_str(), &end, 0);
    if (text.empty() || *end != '\0' || errno == ERANGE)
        throw ConfigError("Parameter '" + key + "' expects " + expects);
    return v;
}

// -netdev user: QEMU's values, then net/slirp.c's checks (addresses,
// names, forwarding rules), all before anything opens.
UserNetConfig parse_user(const std::vector<qopts::OptPair>& p) {
    UserNetConfig u;
    if (auto* v = last_value(p, "restrict")) u.restrict = qopts::parse_bool("restrict", *v);
    if (auto* v = last_value(p, "ipv4")) u.ipv4 = qopts::parse_bool("ipv4", *v);
    if (auto* v = last_value(p, "ipv6")) u.ipv6 = qopts::parse_bool("ipv6", *v);
    u.net = opt_string(p, "net");
    if (!u.net)
        if (auto* v = last_value(p, "ip")) u.net = *v + "/24";
    u.host = opt_string(p, "host");
    u.dhcpstart = opt_string(p, "dhcpstart");
    u.dns = opt_string(p, "dns");
    u.ipv6_prefix = opt_string(p, "ipv6-prefix");
    if (auto* v = last_value(p, "ipv6-prefixlen")) u.ipv6_prefixlen = parse_int64("ipv6-prefixlen", *v, "an int64 value");
    if (auto* v = last_value(p, "ipv6-net")) {  // QEMU's shorthand: ipv6-prefix and ipv6-prefixlen
        size_t slash = v->find('/');
        u.ipv6_prefix = v->substr(0, slash);
        u.ipv6_prefixlen = slash == std::string::npos ? 64 : parse_int64("ipv6-prefixlen", v->substr(slash + 1), "a number");
    }
    u.ipv6_host = opt_string(p, "ipv6-host");
    u.ipv6_dns = opt_string(p, "ipv6-dns");
    u.hostname = opt_string(p, "hostname");
    u.domainname = opt_string(p, "domainname");
    u.tftp = opt_string(p, "tftp");
    u.tftp_server_name = opt_string(p, "tftp-server-name");
    u.bootfile = opt_string(p, "bootfile");
    u.smb = opt_string(p, "smb");
    u.smbserver = opt_string(p, "smbserver");
    u.dnssearch = all_values(p, "dnssearch");
    u.hostfwd = all_values(p, "hostfwd");
    u.guestfwd = all_values(p, "guestfwd");
    try {
        resolve_user_net(u);
        check_user_net_names(u);
    } catch (const ConfigError&) {
        throw;
    } catch (const std::runtime_error& e) {
        throw ConfigError(e.what());
    }
    return u;
}

void check_keys(const std::vector<qopts::OptPair>& pairs, std::string_view type,
                std::initializer_list<std::string_view> extra) {
    std::span<const std::string_view> keys = keys_of(type);
    for (const qopts::OptPair& p : pairs) {
        if (p.key == "type" || p.key == "id") continue;
        if (std::find(keys.begin(), keys.end(), p.key) != keys.end()) continue;
        if (std::find(extra.begin(), extra.end(), p.key) != extra.end()) continue;
        throw ConfigError("Invalid parameter '" + p.key + "'");
    }
}

void check_type(const std::string* type) {
    if (!type) throw ConfigError("Parameter 'type' is missing");
    if (!is_qemu_netdev_type(*type)) throw ConfigError("Parameter 'type' does not accept value '" + *type + "'");
    if (!is_kestrel_netdev_type(*type))
        throw ConfigError("netdev type '" + *type + "' is not supported by kestrel yet");
}

} // namespace

bool is_qemu_netdev_type(std::string_view type) { return contains(kQemuNetdevTypes, type); }

bool is_kestrel_netdev_type(std::string_view type) {
    return type == "tap" || type == "bridge" || type == "hubport" || type == "user";
}

NetdevConfig parse_netdev(const std::vector<qopts::OptPair>& pairs, bool generated_id) {
    NetdevConfig n;
    const std::string* id = last_value(pairs, "id");
    if (!id) throw ConfigError("Parameter 'id' is missing");
    if (!generated_id) check_identifier(*id);
    n.id = *id;
    const std::string* type = last_value(pairs, "type");
    check_type(type);
    n.type = *type;
    check_keys(pairs, n.type, {});
    if (n.type == "tap") n.tap = parse_tap(n.id, pairs);
    if (n.type == "user") n.user = parse_user(pairs);
    if (n.type == "bridge") {
        n.tap.bridge = true;
        n.tap.helper = kDefaultBridgeHelper;
        if (auto* v = last_value(pairs, "helper")) n.tap.helper = *v;
        if (auto* v = last_value(pairs, "br")) n.tap.br = *v;
    }
    if (n.type == "hubport") {
        const std::string* hub = last_value(pairs, "hubid");
        if (!hub) throw ConfigError("Parameter 'hubid' is missing");
        n.hub = int(parse_uint("hubid", *hub, INT32_MAX));
        if (last_value(pairs, "netdev")) throw ConfigError("hubport netdev= is not supported by kestrel yet");
    }
    return n;
}

namespace {

// QEMU's id_generate(ID_NET): "#net", a counter, two random digits.
std::string generated_id(ParseState& st) {
    static std::minstd_rand random(std::random_device{}());
    return fmt::format("#net{}{:02d}", st.generated_net_ids++, unsigned(random() % 100));
}

// -netdev also takes JSON (libvirt's form); -nic and -net do not.
std::vector<qopts::OptPair> split_net_option(ParseState& st, const ArgToken& tok, bool json_allowed = false) {
    return at_location(tok.location(), [&] {
        auto split = json_allowed && tok.value->starts_with('{') ? split_json_scalars(*tok.value)
                                                                 : qopts::split(*tok.value, "type", qopts::Syntax::QemuOpts);
        for (const qopts::OptPair& p : split.pairs)
            if (p.short_form) st.warn(tok.location(), qopts::short_form_warning(p));
        return split.pairs;
    });
}

// The NIC models -nic and -net may name: the network devices on PCI.
std::vector<std::string_view> nic_models() {
    std::vector<std::string_view> models;
    for (const DeviceType* t : device_types())
        if (t->category == DeviceCategory::Network && t->bus == BusKind::Pci && t->user_creatable)
            models.push_back(t->name);
    std::sort(models.begin(), models.end());
    return models;
}

MacAddress nic_mac(const std::string& text) {
    auto mac = MacAddress::parse_option(text);
    if (!mac) throw ConfigError("invalid syntax for ethernet address");
    if (mac->multicast()) throw ConfigError("NIC cannot have multicast MAC address");
    return *mac;
}

void add_board_nic(ParseState& st, NicRequest nic) {
    if (st.board_nics.size() >= 8) throw ConfigError("no more on-board/default NIC slots available");
    st.board_nics.push_back(std::move(nic));
}

std::string hub_port_name(ParseState& st, int hub) {
    return "hub" + std::to_string(hub) + "port" + std::to_string(st.hub_ports[hub]++);
}

// A guestfwd= rule's device, made as QEMU's slirp_guestfwd makes it: a
// chardev spec becomes the chardev "guestfwd.tcp.PORT" (a "mon:" one with
// its monitor), "chardev:ID" claims that chardev. Every failure but a
// chardev in use adds QEMU's "Could not open guest forwarding device".
void add_guestfwd_chardev(ParseState& st, const std::string& location, const GuestFwdRule& rule) {
    const std::string label = rule.chardev_label();
    const std::string cannot_open = "Could not open guest forwarding device '" + label + "'";
    if (rule.chardev.starts_with("chardev:")) {
        if (!attach_frontend(st, rule.chardev_id())) throw ConfigError(cannot_open);
        return;
    }
    std::optional<PendingChardev> p;
    try {
        for (const ChardevConfig& d : st.cfg.chardevs)
            if (d.id == label && d.open_failure == cannot_open)  // another rule's
                throw ConfigError("attempt to add duplicate property '" + label + "' to object (type 'container')");
        p = parse_chardev_shorthand(st, location, label, rule.chardev);
        if (p) {
            p->dev.open_failure = cannot_open;
            create_chardev(st, *p);
        }
    } catch (const ConfigError& e) {
        throw ConfigError(std::string(e.what()) + "\n" + location + ": " + cannot_open);
    }
    if (!p) throw ConfigError(cannot_open);
    if (p->dev.mux) {
        attach_frontend(st, label);
        st.cfg.monitors.push_back({label});
    }
    attach_frontend(st, label);
}

// In QEMU's order: the last rule first.
void add_guestfwd_chardevs(ParseState& st, const NetdevConfig& n) {
    if (n.type != "user") return;
    for (auto it = n.user.guestfwd.rbegin(); it != n.user.guestfwd.rend(); ++it) {
        GuestFwdRule rule = parse_guestfwd(*it);
        if (rule.to_chardev()) add_guestfwd_chardev(st, n.location, rule);
    }
}

void add_netdev(ParseState& st, NetdevConfig n) {
    add_guestfwd_chardevs(st, n);
    if (n.hub >= 0 && n.type != "hubport") ++st.hub_ports[n.hub];  // its port, named by the hub
    st.cfg.netdevs.push_back(std::move(n));
}

void finalize_netdev_option(ParseState& st, const PendingOpts& p) {
    NetdevConfig n = parse_netdev(p.pairs);
    n.location = p.location;
    if (n.type == "hubport") {
        ++st.hub_ports[n.hub];
        st.cfg.netdevs.push_back(std::move(n));
        return;
    }
    add_netdev(st, std::move(n));
}

void finalize_nic_option(ParseState& st, const PendingOpts& p) {
    std::vector<qopts::OptPair> pairs;
    NicRequest nic{p.location};
    for (const qopts::OptPair& pair : p.pairs) {
        if (pair.key == "model") nic.model = pair.value;
        else if (pair.key == "mac") nic.mac = nic_mac(pair.value);
        else pairs.push_back(pair);
    }
    const std::string* type = last_value(pairs, "type");
    if (type && *type == "none") return;
    if (!type) pairs.push_back({"type", "user"});
    nic.vectors = "0";  // QEMU 7.2's -nic leaves NICInfo.nvectors 0: a virtio NIC without MSI-X
    const bool generated = !last_value(pairs, "id");
    if (generated) pairs.push_back({"id", generated_id(st)});
    NetdevConfig n = parse_netdev(pairs, generated);
    n.location = p.location;
    nic.netdev = n.id;
    add_netdev(st, std::move(n));
    add_board_nic(st, nic);
}

void finalize_net_option(ParseState& st, const PendingOpts& p) {
    const std::string* type = last_value(p.pairs, "type");
    if (!type) throw ConfigError("Parameter 'type' is missing");
    if (*type == "none") return;
    if (*type != "nic") {
        std::vector<qopts::OptPair> pairs = p.pairs;
        const bool generated = !last_value(pairs, "id");
        if (generated) pairs.push_back({"id", generated_id(st)});
        NetdevConfig n = parse_netdev(pairs, generated);
        if (n.type == "hubport") throw ConfigError("Parameter 'type' does not accept value 'hubport'");
        n.location = p.location;
        n.hub = 0;
        add_netdev(st, std::move(n));
        return;
    }
    for (const qopts::OptPair& pair : p.pairs)
        if (pair.key != "type" && pair.key != "id" && !contains(kNetNicKeys, pair.key))
            throw ConfigError("Invalid parameter '" + pair.key + "'");
    NicRequest nic{p.location};
    if (auto* v = last_value(p.pairs, "model")) nic.model = *v;
    if (auto* v = last_value(p.pairs, "macaddr")) nic.mac = nic_mac(*v);
    if (auto* v = last_value(p.pairs, "addr")) nic.addr = *v;
    if (auto* v = last_value(p.pairs, "vectors")) nic.vectors = *v;
    if (auto* v = last_value(p.pairs, "netdev")) {
        bool known = std::any_of(st.cfg.netdevs.begin(), st.cfg.netdevs.end(),
                                 [&](const NetdevConfig& n) { return n.id == *v && n.hub < 0; });
        if (!known) throw ConfigError("netdev '" + *v + "' not found");
        nic.netdev = *v;
    } else {
        NetdevConfig port;
        port.location = p.location;
        port.type = "hubport";
        port.hub = 0;
        port.id = hub_port_name(st, 0);
        nic.netdev = port.id;
        st.cfg.netdevs.push_back(std::move(port));
    }
    add_board_nic(st, nic);
}

void print_nic_models(std::ostream& out) {
    out << "Supported NIC models:\n";
    for (std::string_view m : nic_models()) out << m << "\n";
}

bool model_help(const std::vector<qopts::OptPair>& pairs) {
    const std::string* model = last_value(pairs, "model");
    return model && is_help(*model);
}

} // namespace

void handle_netdev(ParseState& st, const ArgToken& tok) {
    std::vector<qopts::OptPair> pairs = split_net_option(st, tok, true);
    if (const std::string* type = last_value(pairs, "type"); type && is_help(*type)) {
        st.netdev_help = true;
        return;
    }
    at_location(tok.location(), [&] {
        const std::string* id = last_value(pairs, "id");
        if (!id) return;
        check_identifier(*id);
        for (const PendingOpts& other : st.netdevs)
            if (const std::string* other_id = last_value(other.pairs, "id"); other_id && *other_id == *id)
                throw ConfigError("Duplicate ID '" + *id + "' for netdev");
    });
    st.default_net = false;
    st.netdevs.push_back({tok.location(), std::move(pairs)});
}

void handle_nic(ParseState& st, const ArgToken& tok) {
    std::vector<qopts::OptPair> pairs = split_net_option(st, tok);
    st.default_net = false;
    if (model_help(pairs)) {
        st.nic_model_help = true;
        return;
    }
    at_location(tok.location(), [&] {
        if (const std::string* id = last_value(pairs, "id")) check_identifier(*id);
    });
    st.nics.push_back({tok.location(), std::move(pairs)});
}

void handle_net(ParseState& st, const ArgToken& tok) {
    std::vector<qopts::OptPair> pairs = split_net_option(st, tok);
    st.default_net = false;
    if (model_help(pairs)) {
        st.nic_model_help = true;
        return;
    }
    st.nets.push_back({tok.location(), std::move(pairs)});
}

void finalize_net(ParseState& st) {
    // QEMU's default network without -netdev, -nic, -net and -nodefaults:
    // "-net nic -net user", an e1000 on user networking through hub 0.
    if (st.default_net && !st.cfg.nodefaults) {
        st.nets.push_back({"-net nic", {{"type", "nic"}}});
        st.nets.push_back({"-net user", {{"type", "user"}}});
        st.default_net = false;
    }
    for (const PendingOpts& p : st.netdevs) at_location(p.location, [&] { finalize_netdev_option(st, p); });
    for (const PendingOpts& p : st.nics) at_location(p.location, [&] { finalize_nic_option(st, p); });
    for (const PendingOpts& p : st.nets) at_location(p.location, [&] { finalize_net_option(st, p); });
}

const DeviceType& nic_type(const std::string& model) {
    std::string name = model.empty() ? "e1000" : model == "virtio" ? "virtio-net-pci" : model;
    const DeviceType* type = find_device_type(name);
    if (!type || type->category != DeviceCategory::Network || type->bus != BusKind::Pci)
        throw ConfigError("Unsupported NIC model: " + name);
    return *type;
}

// QEMU's net_check_clients, at the end of machine creation: hubs without a
// NIC or without a backend, then each NIC and netdev that has no peer, in
// the order QEMU created them (netdevs, then NICs).
void add_net_warnings(ParseState& st) {
    auto netdev_of = [](const DeviceConfig& d) -> const std::string* {
        const PropertySpec* spec = d.props.find("netdev");
        return spec && spec->type == PropType::Netdev ? &d.props.str("netdev") : nullptr;
    };
    std::vector<const DeviceConfig*> nics;
    for (const auto* list : {&st.cfg.board_devices, &st.cfg.devices})
        for (const DeviceConfig& d : *list)
            if (netdev_of(d)) nics.push_back(&d);
    auto used = [&](const std::string& id) {
        return std::any_of(nics.begin(), nics.end(), [&](const DeviceConfig* d) { return *netdev_of(*d) == id; });
    };
    std::map<int, std::pair<bool, bool>> hubs;  // id -> has a NIC, has a backend
    for (const NetdevConfig& n : st.cfg.netdevs) {
        if (n.hub < 0) continue;
        auto& [nic, backend] = hubs[n.hub];
        (n.type == "hubport" ? nic : backend) |= n.type != "hubport" || used(n.id);
    }
    for (const auto& [id, has] : hubs) {
        if (has.second && !has.first) st.warn_at_creation("hub " + std::to_string(id) + " with no nics");
        if (has.first && !has.second) st.warn_at_creation("hub " + std::to_string(id) + " is not connected to host network");
    }
    for (const NetdevConfig& n : st.cfg.netdevs)
        if (n.hub < 0 && !used(n.id)) st.warn_at_creation("netdev " + n.id + " has no peer");
    std::map<std::string, unsigned> per_model;
    for (const DeviceConfig* d : nics) {
        std::string name = d->id.empty() ? std::string(d->driver()) + "." + std::to_string(per_model[std::string(d->driver())]) : d->id;
        ++per_model[std::string(d->driver())];
        if (netdev_of(*d)->empty()) st.warn_at_creation("nic " + name + " has no peer");
    }
}

void print_netdev_help(std::ostream& out) {
    out << "Available netdev backend types:\n";
    for (std::string_view t : kQemuNetdevTypes)
        if (is_kestrel_netdev_type(t)) out << t << "\n";
}

void print_nic_model_help(std::ostream& out) { print_nic_models(out); }

} // namespace kestrel
