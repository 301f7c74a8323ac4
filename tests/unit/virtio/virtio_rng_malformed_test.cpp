// A misbehaving driver: buffers the device may not write, chains past guest
// RAM, endless and huge chains. Nothing outside the writable buffers is
// written, the device never hangs, and a broken ring asks for a reset.
#include "rng_test_harness.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("virtio-rng: a chain of device-readable buffers is answered with nothing written", "[virtio][rng]") {
    RngHarness h;
    h.activate();
    h.ring.add_chain({{kRngBuffers, 4096}});
    h.notify();
    REQUIRE(h.ring.used_idx() == 1);
    CHECK(h.ring.used_len(0) == 0);
    CHECK(h.distinct(kRngBuffers, 4096) == 1);
    CHECK(h.needs_reset == 0);
    h.request(kRngBuffers, 16);  // and the queue still works
    CHECK(h.ring.used_len(1) == 16);
}

TEST_CASE("virtio-rng: a buffer past guest RAM breaks the queue, nothing is written", "[virtio][rng]") {
    RngHarness h;
    h.activate();
    h.ring.add_chain({{kRngRam - 16, 64, true}});
    h.notify();
    CHECK(h.ring.used_idx() == 0);
    CHECK(h.needs_reset == 1);
    CHECK(h.distinct(kRngRam - 16, 16) == 1);
}

TEST_CASE("virtio-rng: an endless chain breaks the queue", "[virtio][rng]") {
    RngHarness h;
    h.activate();
    h.ring.set_desc(0, kRngBuffers, 64, kNext | kWrite, 1);
    h.ring.set_desc(1, kRngBuffers + 64, 64, kNext | kWrite, 0);
    h.ring.make_available(0);
    h.notify();
    CHECK(h.ring.used_idx() == 0);
    CHECK(h.needs_reset == 1);
}

TEST_CASE("virtio-rng: a huge length and a huge address break the queue", "[virtio][rng]") {
    const std::pair<uint64_t, uint32_t> buffers[] = {{kRngBuffers, 0xffffffff}, {0xfffffffffffff000ull, 4096}};
    for (auto [gpa, len] : buffers) {
        RngHarness h;
        h.activate();
        h.ring.set_desc(0, gpa, len, kWrite);
        h.ring.make_available(0);
        h.notify();
        CHECK(h.needs_reset == 1);
        CHECK(h.ring.used_idx() == 0);
    }
}

TEST_CASE("virtio-rng: an avail index far ahead of the ring breaks the queue", "[virtio][rng]") {
    RngHarness h;
    h.activate();
    h.ring.set_desc(0, kRngBuffers, 64, kWrite);
    h.ring.set_avail_idx(1000);
    h.notify();
    CHECK(h.needs_reset == 1);
}

TEST_CASE("virtio-rng: many writable buffers in one chain are all filled", "[virtio][rng]") {
    RngHarness h;
    h.activate();
    std::vector<TestBuf> bufs;
    for (unsigned i = 0; i < 16; ++i) bufs.push_back({kRngBuffers + 256 * i, 256, true});
    h.ring.add_indirect_chain(0x80000, bufs);
    h.notify();
    REQUIRE(h.ring.used_idx() == 1);
    CHECK(h.ring.used_len(0) == 4096);
    CHECK(h.distinct(kRngBuffers + 256 * 15, 256) > 100);
}
