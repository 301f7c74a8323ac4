#include "chardev/open_chardev.h"
#include "chardev/stream_chardev.h"
#include "chardev_test_util.h"

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <thread>

using namespace kestrel;
using namespace kestrel::test;

namespace {

ChardevConfig socket_config(std::map<std::string, std::string> options) {
    ChardevConfig cfg;
    cfg.id = "s";
    cfg.backend = "socket";
    cfg.options = std::move(options);
    return cfg;
}

int tcp_client(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(uint16_t(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    return fd;
}

// The port of a "disconnected:tcp:127.0.0.1:PORT,server=on" filename.
int port_of(const std::string& filename) {
    auto colon = filename.rfind(':');
    return std::stoi(filename.substr(colon + 1));
}

} // namespace

TEST_CASE("chardev socket: unix server, wait=off, one client at a time", "[chardev]") {
    TempDir dir;
    std::string path = dir.path + "/s";
    EventLoop loop;
    auto c = open_chardev(socket_config({{"path", path}, {"server", "on"}, {"wait", "off"}}), loop);
    Recorder fe;
    c->attach(&fe);
    spin(loop);
    CHECK(fe.events.empty());
    CHECK(!c->connected());
    CHECK(c->filename() == "disconnected:unix:" + path + ",server=on");
    put(*c, "dropped: nobody is there\n");

    int a = unix_client(path);
    REQUIRE(a >= 0);
    REQUIRE(run_until(loop, [&] { return c->connected(); }));
    CHECK(c->filename() == "unix:" + path + ",server=on");
    REQUIRE(run_until(loop, [&] { return fe.events.size() == 1; }));
    CHECK(fe.events[0] == "opened");

    put(*c, "hello\r\n");
    CHECK(read_some(a) == "hello\r\n");
    send_text(a, "typed");
    REQUIRE(run_until(loop, [&] { return fe.got == "typed"; }));

    // A second client waits in the backlog while the first is there.
    int b = unix_client(path);
    REQUIRE(b >= 0);
    send_text(b, "second");
    spin(loop, 10);
    CHECK(fe.got == "typed");
    close(a);
    REQUIRE(run_until(loop, [&] { return fe.got == "typedsecond"; }));
    CHECK(fe.events == std::vector<std::string>{"opened", "closed", "opened"});
    put(*c, "to b");
    CHECK(read_some(b) == "to b");
    close(b);
    REQUIRE(run_until(loop, [&] { return !c->connected(); }));
    c->attach(nullptr);
    c.reset();
    CHECK(access(path.c_str(), F_OK) != 0);  // removed at close
}

TEST_CASE("chardev socket: wait=on blocks until the first client", "[chardev]") {
    TempDir dir;
    std::string path = dir.path + "/w";
    EventLoop loop;
    int client = -1;
    std::thread connector([&] {
        for (int i = 0; i < 200 && client < 0; ++i) {
            usleep(10000);
            client = unix_client(path);
        }
    });
    auto c = open_chardev(socket_config({{"path", path}, {"server", "on"}}), loop);
    connector.join();
    REQUIRE(client >= 0);
    CHECK(c->connected());  // connected before the constructor returned
    Recorder fe;
    c->attach(&fe);
    CHECK(fe.events.empty());  // never inside attach()
    REQUIRE(run_until(loop, [&] { return !fe.events.empty(); }));
    spin(loop);
    CHECK(fe.events == std::vector<std::string>{"opened"});
    close(client);
    c->attach(nullptr);
}

TEST_CASE("chardev socket: a client that stops reading never blocks write()", "[chardev]") {
    TempDir dir;
    std::string path = dir.path + "/slow";
    EventLoop loop;
    auto c = open_chardev(socket_config({{"path", path}, {"server", "on"}, {"wait", "off"}}), loop);
    int a = unix_client(path);
    REQUIRE(run_until(loop, [&] { return c->connected(); }));
    std::string chunk(64 * 1024, 'x');
    size_t chunks = StreamChardev::kOutputLimit / chunk.size() + 64;  // far past socket and queue
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < chunks; ++i) put(*c, chunk);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    spin(loop);
    size_t got = 0;
    for (std::string s; !(s = read_some(a, 200)).empty();) {
        got += s.size();
        spin(loop, 2);
    }
    CHECK(got >= StreamChardev::kOutputLimit);
    CHECK(got < chunk.size() * chunks);
    close(a);
}

TEST_CASE("chardev socket: 50 clients come and go without leaking fds", "[chardev]") {
    TempDir dir;
    std::string path = dir.path + "/many";
    EventLoop loop;
    auto c = open_chardev(socket_config({{"path", path}, {"server", "on"}, {"wait", "off"}}), loop);
    Recorder fe;
    c->attach(&fe);
    spin(loop);
    int before = count_open_fds();
    for (int i = 0; i < 50; ++i) {
        int fd = unix_client(path);
        REQUIRE(fd >= 0);
        REQUIRE(run_until(loop, [&] { return c->connected(); }));
        send_text(fd, "half a li");  // leaves mid-line
        put(*c, "out\n");
        close(fd);
        REQUIRE(run_until(loop, [&] { return !c->connected(); }));
    }
    spin(loop);
    CHECK(count_open_fds() == before);
    CHECK(std::count(fe.events.begin(), fe.events.end(), "opened") == 50);
    CHECK(std::count(fe.events.begin(), fe.events.end(), "closed") == 50);
    c->attach(nullptr);
}

TEST_CASE("chardev socket: tcp server and client names", "[chardev]") {
    EventLoop loop;
    auto server =
        open_chardev(socket_config({{"host", "127.0.0.1"}, {"port", "0"}, {"server", "on"}, {"wait", "off"}}), loop);
    std::string idle = server->filename();
    REQUIRE(idle.rfind("disconnected:tcp:127.0.0.1:", 0) == 0);
    REQUIRE(idle.size() > 13);
    CHECK(idle.substr(idle.size() - 10) == ",server=on");
    int port = std::stoi(idle.substr(27, idle.size() - 37));
    int fd = tcp_client(port);
    REQUIRE(run_until(loop, [&] { return server->connected(); }));
    sockaddr_in mine{};
    socklen_t len = sizeof mine;
    getsockname(fd, reinterpret_cast<sockaddr*>(&mine), &len);
    CHECK(server->filename() == "tcp:127.0.0.1:" + std::to_string(port) + ",server=on <-> 127.0.0.1:" +
                                    std::to_string(ntohs(mine.sin_port)));
    close(fd);

    // A client chardev to a listening test socket.
    int lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(lst, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(listen(lst, 1) == 0);
    len = sizeof sa;
    getsockname(lst, reinterpret_cast<sockaddr*>(&sa), &len);
    std::string lport = std::to_string(ntohs(sa.sin_port));
    auto client = open_chardev(socket_config({{"host", "127.0.0.1"}, {"port", lport}}), loop);
    int peer = accept(lst, nullptr, nullptr);
    REQUIRE(peer >= 0);
    CHECK(client->connected());
    std::string name = client->filename();
    CHECK(name.rfind("tcp:127.0.0.1:", 0) == 0);
    CHECK(name.substr(name.find(" <-> ")) == " <-> 127.0.0.1:" + lport);
    put(*client, "ping");
    CHECK(read_some(peer) == "ping");
    close(peer);
    close(lst);
    REQUIRE(run_until(loop, [&] { return !client->connected(); }));
    CHECK(client->filename() == "disconnected:tcp:127.0.0.1:" + lport);
}

TEST_CASE("chardev socket: QEMU's errors", "[chardev]") {
    TempDir dir;
    EventLoop loop;
    CHECK(open_error(socket_config({{"path", "/nonexistent/s"}, {"server", "on"}}), loop) ==
          "Failed to bind socket to /nonexistent/s: No such file or directory");
    CHECK(open_error(socket_config({{"path", dir.path + "/nos"}}), loop) ==
          "Failed to connect to '" + dir.path + "/nos': No such file or directory");
    auto idle = open_chardev(socket_config({{"host", "127.0.0.1"}, {"port", "0"}, {"server", "on"}, {"wait", "off"}}), loop);
    std::string port = std::to_string(port_of(idle->filename().substr(0, idle->filename().size() - 10)));
    idle.reset();  // now nobody listens there
    CHECK(open_error(socket_config({{"host", "127.0.0.1"}, {"port", port}}), loop) ==
          "Failed to connect to '127.0.0.1:" + port + "': Connection refused");
    CHECK(open_error(socket_config({{"host", "127.0.0.1"}}), loop) == "chardev: socket: no port given");
    CHECK(open_error(socket_config({{"path", "x"}, {"server", "on"}, {"reconnect", "1"}}), loop) ==
          "'reconnect' option is incompatible with socket in server listen mode");
    CHECK(open_error(socket_config({{"path", "x"}, {"wait", "off"}}), loop) ==
          "'wait' option is incompatible with socket in client connect mode");
}

TEST_CASE("chardev socket: a client with reconnect= comes back", "[chardev]") {
    TempDir dir;
    std::string path = dir.path + "/r";
    EventLoop loop;
    // Nobody listens yet: no error, the chardev retries every second.
    auto client = open_chardev(socket_config({{"path", path}, {"reconnect", "1"}}), loop);
    CHECK(!client->connected());
    CHECK(client->filename() == "disconnected:unix:" + path);
    Recorder fe;
    client->attach(&fe);
    auto server = open_chardev(socket_config({{"path", path}, {"server", "on"}, {"wait", "off"}}), loop);
    REQUIRE(run_until(loop, [&] { return client->connected() && server->connected(); }, 3000));
    CHECK(client->filename() == "unix:");
    server.reset();  // the peer goes away...
    REQUIRE(run_until(loop, [&] { return !client->connected(); }));
    server = open_chardev(socket_config({{"path", path}, {"server", "on"}, {"wait", "off"}}), loop);
    REQUIRE(run_until(loop, [&] { return client->connected(); }, 3000));  // ...and comes back
    spin(loop);
    CHECK(fe.events == std::vector<std::string>{"opened", "closed", "opened"});
    client->attach(nullptr);
}
