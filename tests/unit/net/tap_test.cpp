// TapBackend on real taps (/dev/net/tun; needs CAP_NET_ADMIN, else the
// tests say so and pass): whichever way a tap is opened, its ports never
// block, because NICs read them on their event loop until no frame waits.
#include "net/tap.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kestrel;

namespace {

bool can_make_taps() {
    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
        WARN("not root or no /dev/net/tun: tap tests skipped");
        return false;
    }
    return true;
}

// A stand-in for qemu-bridge-helper: it opens a tap (the kernel names it;
// it goes when the last descriptor closes) the way the real helper does,
// blocking, and sends it over --fd=N. The bridge name is ignored.
constexpr const char* kFakeHelper = R"(#!/usr/bin/env python3
import fcntl, os, socket, struct, sys
fd = int(next(a for a in sys.argv if a.startswith("--fd="))[5:])
tap = os.open("/dev/net/tun", os.O_RDWR)
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, TUNSETIFF = 0x0002, 0x1000, 0x4000, 0x400454ca
fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", b"", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
socket.send_fds(socket.socket(fileno=fd), [b"x"], [tap])
)";

struct FakeHelper {
    std::string dir, path;
    FakeHelper() {
        char tmpl[] = "/tmp/kestrel-tap-test.XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        dir = tmpl;
        path = dir + "/bridge-helper";
        FILE* f = std::fopen(path.c_str(), "w");
        REQUIRE(f);
        std::fputs(kFakeHelper, f);
        std::fclose(f);
        chmod(path.c_str(), 0700);
    }
    ~FakeHelper() {
        unlink(path.c_str());
        rmdir(dir.c_str());
    }
};

bool nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && (flags & O_NONBLOCK);
}

// No frame waits on a fresh tap: receive() says so at once.
void check_port_never_blocks(TapBackend& tap) {
    REQUIRE(tap.queues() == 1);
    REQUIRE(nonblocking(tap.tap_fd(0)));  // else the receive() below would hang the test
    std::array<uint8_t, 2048> frame{};
    iovec iov{frame.data(), frame.size()};
    CHECK(tap.port(0).receive({&iov, 1}) == 0);
}

} // namespace

TEST_CASE("TapBackend: the bridge helper's tap is made non-blocking", "[net]") {
    if (!can_make_taps()) return;
    FakeHelper helper;
    TapConfig config;
    config.helper = helper.path;
    config.br = "kbr-unused";
    config.bridge = true;
    auto tap = TapBackend::open("n0", config);
    CHECK(tap->info(0) == "helper=" + helper.path + ",br=kbr-unused");
    CHECK(tap->has_vnet_hdr());
    check_port_never_blocks(*tap);
}

TEST_CASE("TapBackend: a tap kestrel opens, or one passed as fd=, does not block", "[net]") {
    if (!can_make_taps()) return;
    TapConfig config;
    config.script = config.downscript = "no";
    check_port_never_blocks(*TapBackend::open("n0", config));

    int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);  // blocking, as a caller may pass it
    REQUIRE(fd >= 0);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    REQUIRE(ioctl(fd, TUNSETIFF, &ifr) == 0);
    TapConfig passed;
    passed.fds = {fd};  // the backend owns it now
    check_port_never_blocks(*TapBackend::open("n1", passed));
}
