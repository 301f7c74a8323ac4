#include "chardev/fd_chardev.h"
#include "chardev/open_chardev.h"

#include "chardev_test_util.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdlib.h>
#include <thread>
#include <unistd.h>

using namespace kestrel;

namespace {

using test::TempDir;
using test::open_error;

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void put(Chardev& c, const std::string& s) {
    c.write({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

ChardevConfig file_config(const std::string& path, const char* append = nullptr) {
    ChardevConfig cfg;
    cfg.id = "serial0";
    cfg.backend = "file";
    cfg.path = path;
    if (append) cfg.options["append"] = append;
    return cfg;
}

struct Frontend final : CharFrontend {
    size_t room = 0;
    std::string got;
    size_t can_receive() override { return room; }
    void receive(std::span<const uint8_t> data) override {
        REQUIRE(data.size() <= room);
        got.append(data.begin(), data.end());
        room -= data.size();
    }
};

struct Pipe {
    int rd = -1, wr = -1;
    Pipe() {
        int fds[2];
        REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
        rd = fds[0];
        wr = fds[1];
    }
    ~Pipe() {
        if (rd >= 0) close(rd);
        if (wr >= 0) close(wr);
    }
};

// FdChardev leaves filename() to its subclasses.
struct RawFdChardev final : FdChardev {
    using FdChardev::FdChardev;
    std::string filename() const override { return "fd"; }
};

void spin(EventLoop& loop, int rounds = 5) {
    for (int i = 0; i < rounds; ++i) loop.run_once(10);
}

} // namespace

TEST_CASE("chardev file: created when opened, truncated unless appending", "[chardev]") {
    TempDir dir;
    EventLoop loop;
    std::string path = dir.path + "/serial.log";
    {
        auto c = open_chardev(file_config(path), loop);
        CHECK(c->label() == "serial0");
        CHECK(slurp(path).empty());  // exists at once
        put(*c, "first\n");
    }
    CHECK(slurp(path) == "first\n");
    {
        auto c = open_chardev(file_config(path), loop);
        put(*c, "second\n");
    }
    CHECK(slurp(path) == "second\n");
    {
        auto c = open_chardev(file_config(path, "on"), loop);
        put(*c, "third\n");
    }
    CHECK(slurp(path) == "second\nthird\n");
}

TEST_CASE("chardev file: QEMU's error messages", "[chardev]") {
    TempDir dir;
    EventLoop loop;
    CHECK(open_error(file_config(dir.path + "/no/such/x"), loop) ==
          "Could not open '" + dir.path + "/no/such/x': No such file or directory");
    CHECK(open_error(file_config(""), loop) == "Could not open '': No such file or directory");
    CHECK(open_error(file_config(dir.path + "/x", "maybe"), loop) ==
          "Parameter 'append' expects 'on' or 'off'");
    ChardevConfig bad;
    bad.backend = "foo";
    CHECK(open_error(bad, loop) == "'foo' is not a valid char driver name");
}

TEST_CASE("chardev null: swallows output", "[chardev]") {
    EventLoop loop;
    ChardevConfig cfg;
    cfg.id = "n";
    cfg.backend = "null";
    auto c = open_chardev(cfg, loop);
    put(*c, "gone");
    CHECK(c->label() == "n");
}

TEST_CASE("chardev stdio: only one at a time", "[chardev]") {
    EventLoop loop;
    ChardevConfig cfg;
    cfg.id = "serial0";
    cfg.backend = "stdio";
    auto first = open_chardev(cfg, loop);
    CHECK(open_error(cfg, loop) == "cannot use stdio by multiple character devices");
    first.reset();
    CHECK(open_chardev(cfg, loop) != nullptr);
    cfg.options["signal"] = "sometimes";
    CHECK(open_error(cfg, loop) == "Parameter 'signal' expects 'on' or 'off'");
}

TEST_CASE("chardev fd: input flows only as the frontend has room", "[chardev]") {
    EventLoop loop;
    Pipe in;
    RawFdChardev c("t", loop, in.rd, -1);
    Frontend fe;
    c.attach(&fe);
    REQUIRE(write(in.wr, "hello world", 11) == 11);
    spin(loop);
    CHECK(fe.got.empty());  // no room: buffered
    fe.room = 5;
    c.frontend_ready();
    spin(loop);
    CHECK(fe.got == "hello");
    fe.room = 100;
    c.frontend_ready();
    spin(loop);
    CHECK(fe.got == "hello world");
    c.attach(nullptr);
}

TEST_CASE("chardev fd: a full buffer stops reading; EOF stops input", "[chardev]") {
    EventLoop loop;
    Pipe in;
    RawFdChardev c("t", loop, in.rd, -1);
    Frontend fe;
    c.attach(&fe);
    std::string big(FdChardev::kInputBufferSize + 100, 'x');
    REQUIRE(write(in.wr, big.data(), big.size()) == ssize_t(big.size()));
    close(in.wr);
    in.wr = -1;
    spin(loop);
    // The buffer is full and the pipe hung up: the loop must not spin on it.
    auto start = std::chrono::steady_clock::now();
    loop.run_once(50);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(40));
    fe.room = big.size();
    c.frontend_ready();
    spin(loop);
    CHECK(fe.got == big);
    c.attach(nullptr);
}

TEST_CASE("chardev fd: input from a non-pollable fd (regular file)", "[chardev]") {
    TempDir dir;
    std::string path = dir.path + "/input";
    std::ofstream(path) << "from a file";
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    EventLoop loop;
    {
        RawFdChardev c("t", loop, UniqueFd(fd), UniqueFd());
        Frontend fe;
        fe.room = 4;
        c.attach(&fe);
        spin(loop);
        CHECK(fe.got == "from");
        fe.room = 100;
        c.frontend_ready();
        spin(loop);
        CHECK(fe.got == "from a file");
        c.attach(nullptr);
        CHECK(fcntl(fd, F_GETFD) >= 0);
    }
    CHECK(fcntl(fd, F_GETFD) == -1);  // the chardev owned it
}

TEST_CASE("chardev fd: borrowed fds stay open when it goes", "[chardev]") {
    EventLoop loop;
    Pipe p;
    { RawFdChardev c("t", loop, p.rd, p.wr); }
    CHECK(fcntl(p.rd, F_GETFD) >= 0);
    CHECK(fcntl(p.wr, F_GETFD) >= 0);
}

TEST_CASE("chardev fd: output survives a full non-blocking pipe", "[chardev]") {
    EventLoop loop;
    Pipe out;
    REQUIRE(fcntl(out.wr, F_SETFL, O_NONBLOCK) == 0);
    RawFdChardev c("t", loop, -1, out.wr);
    std::string data(1 << 20, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = char('a' + i % 26);
    std::string received;
    std::thread reader([&] {
        char buf[4096];
        while (received.size() < data.size()) {
            ssize_t n = read(out.rd, buf, sizeof buf);
            if (n <= 0) break;
            received.append(buf, size_t(n));
        }
    });
    put(c, data);
    reader.join();
    CHECK(received == data);
}

TEST_CASE("chardev fd: a closed reader (EPIPE) drops output without dying", "[chardev]") {
    auto old = std::signal(SIGPIPE, SIG_IGN);  // the lead ignores SIGPIPE process-wide
    EventLoop loop;
    Pipe out;
    close(out.rd);
    out.rd = -1;
    RawFdChardev c("t", loop, -1, out.wr);
    put(c, "nobody listens");
    put(c, "still nobody");
    std::signal(SIGPIPE, old);
    SUCCEED();
}
