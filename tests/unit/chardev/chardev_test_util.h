#pragma once
// Helpers shared by the chardev unit tests.
#include "chardev/chardev.h"
#include "chardev/open_chardev.h"
#include "base/event_loop.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <dirent.h>
#include <functional>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace kestrel::test {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/kestrel-chardev-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

inline void put(Chardev& c, const std::string& s) { c.write({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); }

// Records everything a chardev tells its frontend.
struct Recorder final : CharFrontend {
    size_t room = 1 << 20;
    std::string got;
    std::vector<std::string> events;  // "opened", "closed", "focus+", "focus-", "break"
    size_t can_receive() override { return room; }
    void receive(std::span<const uint8_t> data) override {
        got.append(data.begin(), data.end());
        room -= data.size();
    }
    void opened() override { events.push_back("opened"); }
    void closed() override { events.push_back("closed"); }
    void focus_changed(bool on) override { events.push_back(on ? "focus+" : "focus-"); }
    void receive_break() override { events.push_back("break"); }
};

// Runs the loop until `done` or ~2 s pass; returns done().
inline bool run_until(EventLoop& loop, const std::function<bool()>& done, int ms = 2000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        loop.run_once(10);
    }
    return true;
}

inline void spin(EventLoop& loop, int rounds = 5) {
    for (int i = 0; i < rounds; ++i) loop.run_once(5);
}

inline int count_open_fds() {
    int n = 0;
    DIR* d = opendir("/proc/self/fd");
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

inline int unix_client(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    path.copy(sa.sun_path, sizeof sa.sun_path - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Reads what is there within `ms` (at least one read attempt).
inline std::string read_some(int fd, int ms = 500) {
    std::string out;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            out.append(buf, size_t(n));
            continue;
        }
        if (!out.empty()) break;
        usleep(2000);
    }
    return out;
}

inline void send_text(int fd, const std::string& s) { REQUIRE(send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size())); }

// What opening `cfg` throws, or "" when it opens.
inline std::string open_error(const ChardevConfig& cfg, EventLoop& loop) {
    try {
        open_chardev(cfg, loop);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

} // namespace kestrel::test
