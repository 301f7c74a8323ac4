// virtio-rng: random bytes into the driver's buffers, from getrandom or a
// file, and QEMU's rate limit (max-bytes per period).
#include "rng_test_harness.h"

#include "base/config_error.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

using namespace kestrel;
using namespace kestrel::test;

namespace {

VirtioRngConfig rate_limit(uint64_t max_bytes, uint32_t period_ms) {
    VirtioRngConfig c;
    c.max_bytes = max_bytes;
    c.period_ms = period_ms;
    return c;
}

} // namespace

TEST_CASE("virtio-rng: the device is an entropy device with one queue and no config", "[virtio][rng]") {
    RngHarness h;
    CHECK(h.rng.device_type() == 4);
    CHECK(h.rng.num_queues() == 1);
    CHECK((h.rng.device_features() >> 32 & 1) == 1);  // VIRTIO_F_VERSION_1
    uint8_t config[4] = {1, 2, 3, 4};
    h.rng.read_config(0, config);
    CHECK(config[0] == 0);
    CHECK(config[3] == 0);
}

TEST_CASE("virtio-rng: a writable buffer comes back full of random bytes", "[virtio][rng]") {
    RngHarness h;
    h.activate();
    h.request(kRngBuffers, 4096);
    REQUIRE(h.ring.used_idx() == 1);
    CHECK(h.ring.used_len(0) == 4096);
    CHECK(h.distinct(kRngBuffers, 4096) > 200);
    CHECK(h.interrupts == 1);
    h.request(kRngBuffers + 4096, 4096);
    CHECK(h.bytes(kRngBuffers, 4096) != h.bytes(kRngBuffers + 4096, 4096));
}

TEST_CASE("virtio-rng: only the writable part of a chain is filled", "[virtio][rng]") {
    RngHarness h;
    h.activate();
    h.ring.add_chain({{kRngBuffers, 64}, {kRngBuffers + 64, 32, true}, {kRngBuffers + 96, 32, true}});
    h.notify();
    REQUIRE(h.ring.used_idx() == 1);
    CHECK(h.ring.used_len(0) == 64);
    CHECK(h.distinct(kRngBuffers, 64) == 1);  // still zero
    CHECK(h.distinct(kRngBuffers + 64, 64) > 16);
}

TEST_CASE("virtio-rng: an rng-random backend reads its file", "[virtio][rng]") {
    char path[] = "/tmp/kestrel-rng-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "0123456789abcdef", 16) == 16);
    close(fd);
    VirtioRngConfig c;
    c.backend = std::make_shared<RngBackend>("r", path);
    RngHarness h(c);
    unlink(path);
    h.activate();
    h.request(kRngBuffers, 10);
    CHECK(h.ring.used_len(0) == 10);
    auto b = h.bytes(kRngBuffers, 10);
    CHECK(std::string(b.begin(), b.end()) == "0123456789");
    // Six bytes left: a short read is what the guest gets.
    h.request(kRngBuffers + 64, 10);
    CHECK(h.ring.used_len(1) == 6);
    // An exhausted file gives nothing: the buffer waits, the device lives.
    h.request(kRngBuffers + 128, 10);
    CHECK(h.ring.used_idx() == 2);
    CHECK(h.needs_reset == 0);
}

TEST_CASE("virtio-rng: a file that cannot be opened is QEMU's error", "[virtio][rng]") {
    CHECK_THROWS_WITH(RngBackend("r", "/nonexistent/rng"),
                      "Could not open '/nonexistent/rng': No such file or directory");
}

TEST_CASE("virtio-rng: max-bytes per period, refilled when the period ends", "[virtio][rng]") {
    RngHarness h(rate_limit(100, 200));
    h.activate();
    h.ring.add_chain({{kRngBuffers, 64, true}});
    h.ring.add_chain({{kRngBuffers + 64, 64, true}});
    h.ring.add_chain({{kRngBuffers + 128, 64, true}});
    auto start = std::chrono::steady_clock::now();
    h.notify();
    REQUIRE(h.ring.used_idx() == 2);
    CHECK(h.ring.used_len(0) == 64);
    CHECK(h.ring.used_len(1) == 36);  // what was left of the quota
    CHECK(h.rng.state().quota_remaining == 0);
    CHECK(h.rng.state().period_running);
    REQUIRE(h.pump_until([&] { return h.ring.used_idx() == 3; }));
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(190));
    CHECK(h.ring.used_len(2) == 64);
    CHECK(h.rng.state().quota_remaining == 36);
}

TEST_CASE("virtio-rng: a reset ends the period, the device serves again after it", "[virtio][rng]") {
    RngHarness h(rate_limit(16, 100000));
    h.activate();
    h.request(kRngBuffers, 64);
    CHECK(h.ring.used_len(0) == 16);
    h.rng.reset();
    CHECK_FALSE(h.rng.state().period_running);
    h.ring.clear();
    h.activate();
    h.request(kRngBuffers, 64);
    CHECK(h.ring.used_idx() == 0);  // the quota is spent until the period ends, as QEMU's
    CHECK(h.needs_reset == 0);
}
