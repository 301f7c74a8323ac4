#include "chardev/open_chardev.h"
#include "chardev/pty_chardev.h"
#include "chardev_test_util.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>

using namespace kestrel;
using namespace kestrel::test;

namespace {
ChardevConfig config(const std::string& backend, std::map<std::string, std::string> options) {
    ChardevConfig cfg;
    cfg.id = "c0";
    cfg.backend = backend;
    cfg.options = std::move(options);
    return cfg;
}

std::string read_fd(int fd, int ms = 500) {
    std::string out;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
        char buf[256];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, size_t(n));
            continue;
        }
        if (!out.empty()) break;
        usleep(2000);
    }
    return out;
}
} // namespace

TEST_CASE("chardev pty: announced, connected while the slave is open", "[chardev]") {
    EventLoop loop;
    auto c = std::make_unique<PtyChardev>("ser", loop);
    const std::string path = c->slave_path();
    REQUIRE(path.rfind("/dev/pts/", 0) == 0);
    CHECK(c->filename() == "pty:" + path);
    Recorder fe;
    c->attach(&fe);
    CHECK(!c->connected());
    auto start = std::chrono::steady_clock::now();
    put(*c, "dropped while nobody has it open\n");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100));

    int slave = open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(slave >= 0);
    REQUIRE(run_until(loop, [&] { return c->connected(); }, 3000));
    REQUIRE(run_until(loop, [&] { return fe.events.size() == 1; }));
    CHECK(fe.events[0] == "opened");
    put(*c, "raw\n");
    CHECK(read_fd(slave) == "raw\n");  // raw mode: no "\r\n"
    REQUIRE(::write(slave, "in\r", 3) == 3);
    REQUIRE(run_until(loop, [&] { return fe.got == "in\r"; }));
    close(slave);
    REQUIRE(run_until(loop, [&] { return !c->connected(); }));
    spin(loop);
    CHECK(fe.events == std::vector<std::string>{"opened", "closed"});
    c->attach(nullptr);
}

TEST_CASE("chardev pipe: PATH.in/PATH.out, else PATH", "[chardev]") {
    TempDir dir;
    EventLoop loop;
    std::string base = dir.path + "/p";
    REQUIRE(mkfifo((base + ".in").c_str(), 0600) == 0);
    REQUIRE(mkfifo((base + ".out").c_str(), 0600) == 0);
    auto c = open_chardev(config("pipe", {{"path", base}}), loop);
    CHECK(c->filename() == "pipe");
    Recorder fe;
    c->attach(&fe);
    int out = open((base + ".out").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int in = open((base + ".in").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(out >= 0);
    REQUIRE(in >= 0);
    put(*c, "guest says");
    CHECK(read_fd(out) == "guest says");
    REQUIRE(::write(in, "host says", 9) == 9);
    REQUIRE(run_until(loop, [&] { return fe.got == "host says"; }));
    CHECK(fe.events == std::vector<std::string>{"opened"});
    c->attach(nullptr);
    close(in);
    close(out);

    std::string single = dir.path + "/one";
    REQUIRE(mkfifo(single.c_str(), 0600) == 0);
    CHECK(open_chardev(config("pipe", {{"path", single}}), loop) != nullptr);
    try {
        open_chardev(config("pipe", {{"path", dir.path + "/none"}}), loop);
        FAIL("no error");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "Could not open '" + dir.path + "/none': No such file or directory");
    }
}

TEST_CASE("chardev udp: datagrams both ways", "[chardev]") {
    EventLoop loop;
    int peer = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(peer, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t len = sizeof sa;
    getsockname(peer, reinterpret_cast<sockaddr*>(&sa), &len);
    std::string port = std::to_string(ntohs(sa.sin_port));
    auto c = open_chardev(config("udp", {{"host", "127.0.0.1"}, {"port", port}, {"localaddr", "127.0.0.1"}}), loop);
    CHECK(c->filename() == "udp");
    CHECK(c->connected());
    Recorder fe;
    c->attach(&fe);
    put(*c, "to peer");
    char buf[64];
    sockaddr_in from{};
    len = sizeof from;
    ssize_t n = recvfrom(peer, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    REQUIRE(n == 7);
    CHECK(std::string(buf, 7) == "to peer");
    REQUIRE(sendto(peer, "back", 4, 0, reinterpret_cast<sockaddr*>(&from), len) == 4);
    REQUIRE(run_until(loop, [&] { return fe.got == "back"; }));
    c->attach(nullptr);
    close(peer);
}
