#include "net/user_net_options.h"

#include <arpa/inet.h>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace kestrel {

namespace {

std::runtime_error error(const std::string& text) { return std::runtime_error(text); }

// Cuts `text` at the first `sep`: the field before it (false without one).
bool take_field(std::string_view& text, char sep, std::string& field) {
    size_t at = text.find(sep);
    if (at == std::string_view::npos) return false;
    field = std::string(text.substr(0, at));
    text.remove_prefix(at + 1);
    return true;
}

bool parse_ipv4(const std::string& text, in_addr& out) { return inet_aton(text.c_str(), &out) != 0; }

// QEMU's qemu_strtoi with an end pointer: a number (base 0) must start the
// text; what follows it is ignored.
bool leading_int(const std::string& text, int& out) {
    errno = 0;
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 0);
    if (end == text.c_str() || errno == ERANGE || v < INT_MIN || v > INT_MAX) return false;
    out = int(v);
    return true;
}

// The mask QEMU derives from an address without one (its class).
uint32_t classful_mask(uint32_t addr) {
    if (!(addr & 0x80000000)) return 0xff000000;
    if ((addr & 0xfff00000) == 0xac100000) return 0xfff00000;
    if ((addr & 0xc0000000) == 0x80000000) return 0xffff0000;
    if ((addr & 0xffff0000) == 0xc0a80000) return 0xffff0000;
    if ((addr & 0xffff0000) == 0xc6120000) return 0xfffe0000;
    if ((addr & 0xe0000000) == 0xe0000000) return 0xffffff00;
    return 0xfffffff0;
}

void parse_network(const std::string& text, UserNetAddresses& a) {
    size_t slash = text.find('/');
    if (slash == std::string::npos) {
        if (!parse_ipv4(text, a.net)) throw error("Failed to parse netmask");
        a.mask.s_addr = htonl(classful_mask(ntohl(a.net.s_addr)));
    } else {
        if (!parse_ipv4(text.substr(0, slash), a.net)) throw error("Failed to parse netmask");
        std::string bits = text.substr(slash + 1);
        char* end = nullptr;
        long shift = std::strtol(bits.c_str(), &end, 10);
        if (*end != '\0') {
            if (!parse_ipv4(bits, a.mask)) throw error("Failed to parse netmask (trailing chars)");
        } else if (shift < 4 || shift > 32) {
            throw error("Invalid netmask provided (must be in range 4-32)");
        } else {
            a.mask.s_addr = htonl(uint32_t(0xffffffffull << (32 - shift)));
        }
    }
    a.net.s_addr &= a.mask.s_addr;
    auto in_net = [&](uint32_t low) { return in_addr{a.net.s_addr | (htonl(low) & ~a.mask.s_addr)}; };
    a.host = in_net(0x0202);
    a.dhcp = in_net(0x020f);
    a.dns = in_net(0x0203);
}

bool same_net6(const in6_addr& a, const in6_addr& b, int bits) {
    for (int i = 0; i < bits; ++i) {
        int bit = 7 - i % 8;
        if (((a.s6_addr[i / 8] >> bit) & 1) != ((b.s6_addr[i / 8] >> bit) & 1)) return false;
    }
    return true;
}

void resolve_ipv4(const UserNetConfig& c, UserNetAddresses& a) {
    a.net.s_addr = htonl(0x0a000200);
    a.mask.s_addr = htonl(0xffffff00);
    a.host.s_addr = htonl(0x0a000202);
    a.dhcp.s_addr = htonl(0x0a00020f);
    a.dns.s_addr = htonl(0x0a000203);
    if (c.net) parse_network(*c.net, a);
    if (c.host && !parse_ipv4(*c.host, a.host)) throw error("Failed to parse host");
    if ((a.host.s_addr & a.mask.s_addr) != a.net.s_addr) throw error("Host doesn't belong to network");
    if (c.dns && !parse_ipv4(*c.dns, a.dns)) throw error("Failed to parse DNS");
    if (c.restrict && (a.dns.s_addr & a.mask.s_addr) != a.net.s_addr) throw error("DNS doesn't belong to network");
    if (a.dns.s_addr == a.host.s_addr) throw error("DNS must be different from host");
    if (c.dhcpstart && !parse_ipv4(*c.dhcpstart, a.dhcp)) throw error("Failed to parse DHCP start address");
    if ((a.dhcp.s_addr & a.mask.s_addr) != a.net.s_addr) throw error("DHCP doesn't belong to network");
    if (a.dhcp.s_addr == a.host.s_addr || a.dhcp.s_addr == a.dns.s_addr)
        throw error("DHCP must be different from host and DNS");
    in_addr smb{};
    if (c.smbserver && !parse_ipv4(*c.smbserver, smb)) throw error("Failed to parse SMB address");
}

void resolve_ipv6(const UserNetConfig& c, UserNetAddresses& a) {
    std::string prefix = c.ipv6_prefix.value_or("fec0::");
    if (inet_pton(AF_INET6, prefix.c_str(), &a.prefix6) != 1) throw error("Failed to parse IPv6 prefix");
    int64_t len = c.ipv6_prefixlen.value_or(0);
    if (len == 0) len = 64;
    if (len < 0 || len > 126)
        throw error("Invalid IPv6 prefix provided (IPv6 prefix length must be between 0 and 126)");
    a.prefix6_len = int(len);
    if (c.ipv6_host) {
        if (inet_pton(AF_INET6, c.ipv6_host->c_str(), &a.host6) != 1) throw error("Failed to parse IPv6 host");
        if (!same_net6(a.prefix6, a.host6, a.prefix6_len)) throw error("IPv6 Host doesn't belong to network");
    } else {
        a.host6 = a.prefix6;
        a.host6.s6_addr[15] |= 2;
    }
    if (c.ipv6_dns) {
        if (inet_pton(AF_INET6, c.ipv6_dns->c_str(), &a.dns6) != 1) throw error("Failed to parse IPv6 DNS");
        if (c.restrict && !same_net6(a.prefix6, a.dns6, a.prefix6_len))
            throw error("IPv6 DNS doesn't belong to network");
    } else {
        a.dns6 = a.prefix6;
        a.dns6.s6_addr[15] |= 3;
    }
}

} // namespace

UserNetAddresses resolve_user_net(const UserNetConfig& c) {
    UserNetAddresses a;
    // QEMU: naming one family alone (on) means only that one.
    a.ipv4 = !((c.ipv6 == true && !c.ipv4) || c.ipv4 == false);
    a.ipv6 = !((c.ipv4 == true && !c.ipv6) || c.ipv6 == false);
    if (!a.ipv4 && (c.net || c.host || c.dns)) throw error("IPv4 disabled but netmask/host/dns provided");
    if (!a.ipv6 && (c.ipv6_prefix || c.ipv6_host || c.ipv6_dns))
        throw error("IPv6 disabled but prefix/host6/dns6 provided");
    if (!a.ipv4 && !a.ipv6) throw error("IPv4 and IPv6 disabled");
    resolve_ipv4(c, a);
    resolve_ipv6(c, a);
    return a;
}

void check_user_net_names(const UserNetConfig& c) {
    if (c.domainname && c.domainname->empty()) throw error("'domainname' parameter cannot be empty");
    if (c.domainname && c.domainname->size() > 255) throw error("'domainname' parameter cannot exceed 255 bytes");
    if (c.hostname && c.hostname->size() > 255) throw error("'vhostname' parameter cannot exceed 255 bytes");
    if (c.tftp_server_name && c.tftp_server_name->size() > 255)
        throw error("'tftp-server-name' parameter cannot exceed 255 bytes");
    // QEMU applies the rules last first, guest forwarding before host forwarding.
    for (auto it = c.guestfwd.rbegin(); it != c.guestfwd.rend(); ++it) parse_guestfwd(*it);
    for (auto it = c.hostfwd.rbegin(); it != c.hostfwd.rend(); ++it) parse_hostfwd(*it);
    if (c.smb)
        throw error("smb= is not supported by kestrel: it runs no SMB server (share files with hostfwd= or "
                    "tftp= instead)");
}

HostFwdRule parse_hostfwd(const std::string& rule) {
    auto fail = [&](const char* reason) {
        return error("Invalid host forwarding rule '" + rule + "' (" + reason + ")");
    };
    HostFwdRule r;
    r.host_addr.s_addr = INADDR_ANY;
    std::string_view rest = rule;
    std::string field;
    if (!take_field(rest, ':', field)) throw fail("No : separators");
    if (field == "udp") r.udp = true;
    else if (field != "tcp" && !field.empty()) throw fail("Bad protocol name");
    if (!take_field(rest, ':', field)) throw fail("Missing : separator");
    if (!field.empty() && !parse_ipv4(field, r.host_addr)) throw fail("Bad host address");
    if (!take_field(rest, '-', field)) throw fail("Bad host port separator");
    if (!leading_int(field, r.host_port) || r.host_port < 0 || r.host_port > 65535) throw fail("Bad host port");
    if (!take_field(rest, ':', field)) throw fail("Missing guest address");
    if (!field.empty() && !parse_ipv4(field, r.guest_addr)) throw fail("Bad guest address");
    if (!leading_int(std::string(rest), r.guest_port) || r.guest_port < 1 || r.guest_port > 65535)
        throw fail("Bad guest port");
    return r;
}

bool parse_hostfwd_remove(const std::string& rule, HostFwdRule& out) {
    out = HostFwdRule{};
    out.host_addr.s_addr = INADDR_ANY;
    std::string_view rest = rule;
    std::string field;
    if (!take_field(rest, ':', field)) return false;
    if (field == "udp") out.udp = true;
    else if (field != "tcp" && !field.empty()) return false;
    if (!take_field(rest, ':', field)) return false;
    if (!field.empty() && !parse_ipv4(field, out.host_addr)) return false;
    std::string port(rest);
    errno = 0;
    char* end = nullptr;
    long v = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || errno == ERANGE || v < INT_MIN || v > INT_MAX) return false;
    out.host_port = int(v);
    return true;
}

GuestFwdRule parse_guestfwd(const std::string& rule) {
    auto fail = [&] { return error("Invalid guest forwarding rule '" + rule + "'"); };
    GuestFwdRule r;
    std::string_view rest = rule;
    std::string field;
    if (!take_field(rest, ':', field) || (field != "tcp" && !field.empty())) throw fail();
    if (!take_field(rest, ':', field)) throw fail();
    if (!field.empty() && !parse_ipv4(field, r.server)) throw fail();
    if (!take_field(rest, '-', field)) throw fail();
    char* end = nullptr;
    long port = std::strtol(field.c_str(), &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) throw fail();
    r.port = int(port);
    r.exec = rest.starts_with("cmd:");
    if (r.exec) r.command = std::string(rest.substr(4));
    else r.chardev = std::string(rest);
    return r;
}

std::string GuestFwdRule::chardev_id() const {
    return chardev.starts_with("chardev:") ? chardev.substr(8) : chardev_label();
}

} // namespace kestrel
