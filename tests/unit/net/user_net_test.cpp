// -netdev user: QEMU's rules for addresses and forwarding rules, and the
// libslirp stack on an event loop answering a guest's DHCP request and
// accepting a hostfwd connection; a guestfwd rule's flow control against a
// stand-in slirp.
#include "base/event_loop.h"
#include "net/guest_forward.h"
#include "net/libslirp.h"
#include "net/user_net.h"
#include "net/user_net_options.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace kestrel;

namespace {

std::string text(in_addr a) { return inet_ntoa(a); }

std::string error_of(const UserNetConfig& c) {
    try {
        resolve_user_net(c);
        check_user_net_names(c);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

uint16_t ip_checksum(const uint8_t* p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

// A DHCPDISCOVER from 52:54:00:12:34:56, as udhcpc sends it.
std::vector<uint8_t> dhcp_discover() {
    std::vector<uint8_t> f(14 + 20 + 8 + 240 + 4, 0);
    const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    std::memset(f.data(), 0xff, 6);
    std::memcpy(f.data() + 6, mac, 6);
    f[12] = 0x08;
    uint8_t* ip = f.data() + 14;
    size_t ip_len = f.size() - 14;
    ip[0] = 0x45, ip[2] = uint8_t(ip_len >> 8), ip[3] = uint8_t(ip_len), ip[8] = 64, ip[9] = 17;
    std::memset(ip + 16, 0xff, 4);
    uint16_t sum = ip_checksum(ip, 20);
    ip[10] = uint8_t(sum >> 8), ip[11] = uint8_t(sum);
    uint8_t* udp = ip + 20;
    udp[1] = 68, udp[3] = 67;
    size_t udp_len = ip_len - 20;
    udp[4] = uint8_t(udp_len >> 8), udp[5] = uint8_t(udp_len);
    uint8_t* bootp = udp + 8;
    bootp[0] = 1, bootp[1] = 1, bootp[2] = 6, bootp[4] = 0x12, bootp[5] = 0x34;
    std::memcpy(bootp + 28, mac, 6);
    const uint8_t cookie[4] = {99, 130, 83, 99};
    std::memcpy(bootp + 236, cookie, 4);
    bootp[240] = 53, bootp[241] = 1, bootp[242] = 1, bootp[243] = 255;   // DHCPDISCOVER, end
    return f;
}

// Frames for the guest, waiting on the loop up to `seconds`.
std::vector<uint8_t> next_frame(EventLoop& loop, UserNetBackend& net, double seconds = 10) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(int(seconds * 1000));
    std::vector<uint8_t> buf(2048);
    while (std::chrono::steady_clock::now() < until) {
        iovec v{buf.data(), buf.size()};
        ssize_t n = net.receive({&v, 1});
        if (n > 0) return {buf.begin(), buf.begin() + n};
        loop.run_once(50);
    }
    return {};
}

} // namespace

TEST_CASE("user net: QEMU's default addresses and what net= derives", "[usernet]") {
    UserNetAddresses a = resolve_user_net({});
    CHECK(text(a.net) == "10.0.2.0");
    CHECK(text(a.mask) == "255.255.255.0");
    CHECK(text(a.host) == "10.0.2.2");
    CHECK(text(a.dhcp) == "10.0.2.15");
    CHECK(text(a.dns) == "10.0.2.3");
    CHECK(a.prefix6_len == 64);
    UserNetConfig c;
    c.net = "192.168.76.0/24";
    a = resolve_user_net(c);
    CHECK(text(a.host) == "192.168.76.2");
    CHECK(text(a.dhcp) == "192.168.76.15");
    c.net = "172.20.0.0";   // no mask: its class
    CHECK(text(resolve_user_net(c).mask) == "255.240.0.0");
    UserNetConfig v6only;
    v6only.ipv6 = true;
    a = resolve_user_net(v6only);
    CHECK(!a.ipv4);
    CHECK(a.ipv6);
}

TEST_CASE("user net: bad addresses and names, in QEMU's words", "[usernet]") {
    UserNetConfig c;
    c.net = "10.0.0.0/33";
    CHECK(error_of(c) == "Invalid netmask provided (must be in range 4-32)");
    c = {};
    c.dhcpstart = "10.0.2.2";
    CHECK(error_of(c) == "DHCP must be different from host and DNS");
    c = {};
    c.ipv6_prefixlen = 127;
    CHECK(error_of(c) == "Invalid IPv6 prefix provided (IPv6 prefix length must be between 0 and 126)");
    c = {};
    c.hostname = std::string(256, 'h');
    CHECK(error_of(c) == "'vhostname' parameter cannot exceed 255 bytes");
    c = {};
    c.hostfwd = {"tcp::1-:2", "udp:x:1-:2"};
    CHECK(error_of(c) == "Invalid host forwarding rule 'udp:x:1-:2' (Bad host address)");
    c = {};
    c.guestfwd = {"tcp:10.0.2.100:80-cmd:cat", "udp:10.0.2.100:80-null"};
    CHECK(error_of(c) == "Invalid guest forwarding rule 'udp:10.0.2.100:80-null'");
}

TEST_CASE("user net: guestfwd rules as QEMU reads them", "[usernet]") {
    GuestFwdRule r = parse_guestfwd("tcp:10.0.2.100:5555-cmd:cat -u");
    CHECK(r.exec);
    CHECK(r.command == "cat -u");
    CHECK(text(r.server) == "10.0.2.100");
    CHECK(r.port == 5555);
    r = parse_guestfwd("tcp:10.0.2.101:6666-tcp:127.0.0.1:4444,reconnect=1");
    CHECK(r.to_chardev());
    CHECK(r.chardev == "tcp:127.0.0.1:4444,reconnect=1");
    CHECK(r.chardev_label() == "guestfwd.tcp.6666");
    CHECK(r.chardev_id() == "guestfwd.tcp.6666");
    r = parse_guestfwd(":10.0.2.5:1-chardev:c0");    // protocol may be empty
    CHECK(r.chardev_id() == "c0");
    CHECK(r.chardev_label() == "guestfwd.tcp.1");
    r = parse_guestfwd("::65535-unix:/tmp/s");       // so may the server (slirp picks .4)
    CHECK(r.server.s_addr == 0);
    CHECK(r.chardev == "unix:/tmp/s");
    r = parse_guestfwd("tcp::80-");                  // an empty spec: its chardev fails to be made
    CHECK(r.to_chardev());
    CHECK(r.chardev.empty());
    r = parse_guestfwd("tcp::80-cmd:");
    CHECK(r.exec);
    for (const char* bad : {"", "tcp", "tcp:", "tcp:10.0.2.100", "tcp:10.0.2.100:80", "udp:10.0.2.100:80-null",
                            "tcpx::80-null", "tcp:10.0.2.x:80-null", "tcp:10.0.2.100:0-null",
                            "tcp:10.0.2.100:65536-null", "tcp:10.0.2.100:-1-null", "tcp:10.0.2.100:8x-null",
                            "tcp:10.0.2.100:-null", "tcp:10.0.2.100:99999999999999999999-null"})
        CHECK_THROWS_WITH(parse_guestfwd(bad), std::string("Invalid guest forwarding rule '") + bad + "'");
}

TEST_CASE("user net: hostfwd rules as QEMU reads them", "[usernet]") {
    HostFwdRule r = parse_hostfwd("udp:127.0.0.1:5555-10.0.2.20:53");
    CHECK(r.udp);
    CHECK(text(r.host_addr) == "127.0.0.1");
    CHECK(r.host_port == 5555);
    CHECK(text(r.guest_addr) == "10.0.2.20");
    CHECK(r.guest_port == 53);
    r = parse_hostfwd("::0x10-:22");    // protocol and addresses may be empty, ports take C prefixes
    CHECK(!r.udp);
    CHECK(r.host_port == 16);
    CHECK(r.guest_addr.s_addr == 0);
    CHECK_THROWS_WITH(parse_hostfwd("tcp"), "Invalid host forwarding rule 'tcp' (No : separators)");
    CHECK_THROWS_WITH(parse_hostfwd("tcp:"), "Invalid host forwarding rule 'tcp:' (Missing : separator)");
    CHECK_THROWS_WITH(parse_hostfwd("tcp::-1-:2"), "Invalid host forwarding rule 'tcp::-1-:2' (Bad host port)");
    CHECK_THROWS_WITH(parse_hostfwd("tcp::1-2"), "Invalid host forwarding rule 'tcp::1-2' (Missing guest address)");
    CHECK_THROWS_WITH(parse_hostfwd("tcp::1-:65536"), "Invalid host forwarding rule 'tcp::1-:65536' (Bad guest port)");
    HostFwdRule removal;
    CHECK(parse_hostfwd_remove("tcp::2222", removal));
    CHECK(removal.host_port == 2222);
    CHECK(!parse_hostfwd_remove("tcp::22x", removal));
    CHECK(!parse_hostfwd_remove("icmp::1", removal));
}

TEST_CASE("user net: slirp starts at the first frame, answers DHCP, forwards a host connection", "[usernet]") {
    EventLoop loop;
    auto net = UserNetBackend::open("u0", {}, loop);
    CHECK(net->info(0) == "net=10.0.2.0,restrict=off");
    // No rules: nothing runs (nor is loaded) before the guest's first frame.
    CHECK(net->connection_info() ==
          "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\n");

    std::vector<uint8_t> discover = dhcp_discover();
    iovec v{discover.data(), discover.size()};
    net->send({&v, 1});
    std::vector<uint8_t> offer;
    for (int i = 0; i < 10 && offer.empty(); ++i) {
        std::vector<uint8_t> f = next_frame(loop, *net);
        if (f.size() > 14 + 20 + 8 + 240 && f[12] == 0x08 && f[14 + 9] == 17) offer = f;
    }
    REQUIRE(!offer.empty());
    const uint8_t* bootp = offer.data() + 14 + 20 + 8;
    CHECK(bootp[0] == 2);   // BOOTREPLY
    in_addr yiaddr;
    std::memcpy(&yiaddr, bootp + 16, 4);
    CHECK(text(yiaddr) == "10.0.2.15");
    CHECK(offer.size() >= 60);

    // A rule added at run time (port 0: the kernel picks a free one, read
    // back from slirp's table), then a host client: slirp accepts on the
    // loop and calls the guest's port 22.
    net->add_hostfwd("tcp:127.0.0.1:0-:22");
    std::string info = net->connection_info();
    size_t at = info.find("TCP[HOST_FORWARD]");
    REQUIRE(at != std::string::npos);
    unsigned fd = 0, port = 0;
    char addr[64] = {};
    REQUIRE(std::sscanf(info.c_str() + at, "TCP[HOST_FORWARD] %u %63s %u", &fd, addr, &port) == 3);
    CHECK(std::string(addr) == "127.0.0.1");
    int client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(uint16_t(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to);
    bool syn = false;
    for (int i = 0; i < 20 && !syn; ++i) {
        std::vector<uint8_t> f = next_frame(loop, *net);
        if (f.size() < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6) continue;
        const uint8_t* tcp = f.data() + 14 + 20;
        syn = (tcp[2] << 8 | tcp[3]) == 22 && (tcp[13] & 0x02) && f[14 + 19] == 15;
    }
    CHECK(syn);
    close(client);
}

namespace {

// A stand-in for slirp's guestfwd socket: room for `room` bytes towards the
// guest, what it was given, the rule it was asked for.
struct FakeSlirpSocket {
    size_t room = 0;
    std::string to_guest;
    in_addr added{};
    int added_port = 0;
    bool refuse = false;
};
FakeSlirpSocket fake;

LibSlirp fake_lib() {
    LibSlirp lib{};
    lib.add_guestfwd = [](Slirp*, SlirpWriteCb, void*, in_addr* addr, int port) {
        if (fake.refuse) return -1;
        if (addr->s_addr == 0) addr->s_addr = htonl(0x0a000204);   // slirp's default, written back
        fake.added = *addr;
        fake.added_port = port;
        return 0;
    };
    lib.socket_can_recv = [](Slirp*, in_addr addr, int port) -> size_t {
        return addr.s_addr == fake.added.s_addr && port == fake.added_port ? fake.room : 0;
    };
    lib.socket_recv = [](Slirp*, in_addr, int, const uint8_t* buf, int size) {
        REQUIRE(size_t(size) <= fake.room);   // slirp closes the connection past its room
        fake.to_guest.append(reinterpret_cast<const char*>(buf), size_t(size));
        fake.room -= size_t(size);
    };
    return lib;
}

// A chardev whose peer has sent `input` and holds `backlog` unsent bytes.
struct FakeChardev final : Chardev {
    FakeChardev() : Chardev("guestfwd.tcp.6666") {}
    void write(std::span<const uint8_t> data) override { from_guest.append(data.begin(), data.end()); }
    void frontend_ready() override { ++readies; }
    std::string filename() const override { return "fake"; }
    size_t output_backlog() const override { return backlog; }
    // As StreamChardev::deliver_input: at most can_receive() at a time.
    void deliver() {
        while (!input.empty() && frontend_) {
            size_t n = std::min(frontend_->can_receive(), input.size());
            if (n == 0) break;
            frontend_->receive({reinterpret_cast<const uint8_t*>(input.data()), n});
            input.erase(0, n);
        }
    }
    CharFrontend* frontend() const { return frontend_; }
    std::string from_guest, input;
    size_t backlog = 0;
    unsigned readies = 0;
};

} // namespace

TEST_CASE("user net: a guestfwd chardev never gives slirp more than it has room for", "[usernet]") {
    fake = {};
    LibSlirp lib = fake_lib();
    unsigned refreshes = 0;
    auto fwd = std::make_unique<GuestForward>(lib, nullptr, "guestfwd.tcp.6666", [&] { ++refreshes; });
    fake.refuse = true;
    CHECK(!fwd->add(in_addr{}, 6666));
    fake.refuse = false;
    REQUIRE(fwd->add(in_addr{}, 6666));
    CHECK(text(fake.added) == "10.0.2.4");

    FakeChardev chardev;
    fwd->connect(chardev);
    CHECK(chardev.frontend() == fwd.get());

    // No guest connection yet (no room): the input waits in the chardev,
    // and a pass of the stack with no room leaves it waiting.
    chardev.input = std::string(10000, 'x');
    chardev.deliver();
    CHECK(fake.to_guest.empty());
    fwd->poll();
    CHECK(chardev.readies == 0);

    // Room opens: poll() wakes the chardev, which hands over what fits.
    fake.room = 4096;
    fwd->poll();
    CHECK(chardev.readies == 1);
    chardev.deliver();
    CHECK(fake.to_guest.size() == 4096);
    CHECK(chardev.input.size() == 10000 - 4096);
    CHECK(refreshes == 1);
    fwd->poll();                       // still full: no wake-up
    CHECK(chardev.readies == 1);
    fake.room = 1 << 20;
    fwd->poll();
    CHECK(chardev.readies == 2);
    chardev.deliver();
    CHECK(fake.to_guest == std::string(10000, 'x'));
    fwd->poll();                       // nothing was waiting
    CHECK(chardev.readies == 2);

    // The guest's bytes go to the chardev whole; its backlog is the rule's.
    const char hello[] = "from the guest";
    CHECK(GuestForward::write_to_chardev(hello, sizeof hello - 1, fwd.get()) == ssize_t(sizeof hello - 1));
    CHECK(chardev.from_guest == "from the guest");
    chardev.backlog = UserNetBackend::kGuestFwdBacklog + 1;
    CHECK(fwd->backlog() == UserNetBackend::kGuestFwdBacklog + 1);

    fwd.reset();                       // detaches from the chardev
    CHECK(chardev.frontend() == nullptr);
}

namespace {

// A stream chardev's output side: takes at most `window` bytes until
// open() gives it room again and posts writable(), as StreamChardev does.
struct WindowedChardev final : Chardev {
    WindowedChardev() : Chardev("guestfwd.tcp.6666") {}
    void write(std::span<const uint8_t> data) override { took.append(data.begin(), data.end()); }
    size_t write_some(std::span<const uint8_t> data) override {
        size_t n = std::min(room, data.size());
        took.append(data.begin(), data.begin() + ptrdiff_t(n));
        room -= n;
        return n;
    }
    std::string filename() const override { return "fake"; }
    bool connected() const override { return peer; }
    void open(size_t bytes) {
        room += bytes;
        if (frontend_) frontend_->writable();
    }
    std::string took;
    size_t room = 0;
    bool peer = true;
};

bool write_guest_bytes(GuestForward& fwd, const std::string& bytes) {
    return GuestForward::write_to_chardev(bytes.data(), bytes.size(), &fwd) == ssize_t(bytes.size());
}

} // namespace

TEST_CASE("user net: a guestfwd rule holds what the chardev does not take until writable()", "[usernet]") {
    fake = {};
    LibSlirp lib = fake_lib();
    unsigned refreshes = 0;
    WindowedChardev chardev;  // outlives the rule, which detaches from it when it goes
    GuestForward fwd(lib, nullptr, "guestfwd.tcp.6666", [&] { ++refreshes; });
    REQUIRE(fwd.add(in_addr{}, 6666));
    fwd.connect(chardev);

    // slirp counts it all as sent; the chardev took 1000, the rule keeps the rest.
    std::string first(3000, 'a'), second(2000, 'b');
    chardev.room = 1000;
    CHECK(write_guest_bytes(fwd, first));
    CHECK(chardev.took.size() == 1000);
    CHECK(fwd.backlog() == 2000);
    // Later bytes queue behind, even with room: the order holds.
    chardev.room = 10;
    CHECK(write_guest_bytes(fwd, second));
    CHECK(chardev.took.size() == 1000);
    CHECK(fwd.backlog() == 4000);

    // writable(): as much as fits, and the user network looks again (refresh).
    chardev.room = 0;
    chardev.open(2500);
    CHECK(chardev.took.size() == 3500);
    CHECK(fwd.backlog() == 1500);
    CHECK(refreshes == 1);
    chardev.open(1 << 20);
    CHECK(chardev.took == first + second);
    CHECK(fwd.backlog() == 0);
    CHECK(refreshes == 2);

    // Without a peer the guest's bytes are dropped; a peer that goes away
    // takes what was waiting for it.
    chardev.peer = false;
    CHECK(write_guest_bytes(fwd, "lost"));
    CHECK(fwd.backlog() == 0);
    chardev.peer = true;
    chardev.room = 0;
    CHECK(write_guest_bytes(fwd, "waiting"));
    CHECK(fwd.backlog() == 7);
    static_cast<CharFrontend&>(fwd).closed();
    CHECK(fwd.backlog() == 0);
    CHECK(refreshes == 3);
    chardev.open(100);
    CHECK(chardev.took == first + second);
}
