// A misbehaving virtio-net driver: chains without room for the header or
// the ack, receive buffers the device may not write, endless chains, wild
// addresses. The device asks for a reset and kestrel goes on.
#include "net_test_harness.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;
using namespace kestrel::virtio_net;

TEST_CASE("virtio-net: a transmitted chain shorter than the header needs a reset", "[virtio-net][malformed]") {
    NetHarness h;
    h.activate();
    h.tx.add_chain({{kTxBuffers, 4}});
    h.kick(1);
    CHECK(h.needs_reset == 1);
    CHECK(h.backend.sent.empty());
}

TEST_CASE("virtio-net: a header alone is consumed and sends nothing", "[virtio-net][malformed]") {
    NetHarness h;
    h.activate();
    h.tx.add_chain({{kTxBuffers, 12}});
    h.kick(1);
    CHECK(h.needs_reset == 0);
    CHECK(h.backend.sent.empty());
    CHECK(h.used(h.tx).size() == 1);
}

TEST_CASE("virtio-net: receive buffers the device may only read need a reset", "[virtio-net][malformed]") {
    NetHarness h;
    h.activate();
    h.rx.add_chain({{kRxBuffers, 2048, false}});
    h.kick(0);
    h.inject(NetHarness::frame(kMac, 100));
    CHECK(h.needs_reset == 1);
}

TEST_CASE("virtio-net: a receive buffer smaller than the header needs a reset", "[virtio-net][malformed]") {
    NetHarness h;
    h.activate();
    h.rx.add_chain({{kRxBuffers, 4, true}});
    h.kick(0);
    h.inject(NetHarness::frame(kMac, 100));
    CHECK(h.needs_reset == 1);
}

TEST_CASE("virtio-net: looping and wild descriptors need a reset", "[virtio-net][malformed]") {
    SECTION("a transmit chain that loops") {
        NetHarness h;
        h.activate();
        h.tx.set_desc(0, kTxBuffers, 64, kNext, 1);
        h.tx.set_desc(1, kTxBuffers, 64, kNext, 0);
        h.tx.make_available(0);
        h.kick(1);
        CHECK(h.needs_reset == 1);
    }
    SECTION("a receive buffer outside guest memory") {
        NetHarness h;
        h.activate();
        h.rx.add_chain({{0x7fffffff000ull, 4096, true}});
        h.kick(0);
        h.inject(NetHarness::frame(kMac, 100));
        CHECK(h.needs_reset == 1);
        CHECK(h.used(h.rx).empty());
    }
    SECTION("the driver moves the available index too far") {
        NetHarness h;
        h.activate();
        h.tx.set_avail_idx(1000);
        h.kick(1);
        CHECK(h.needs_reset == 1);
    }
}

TEST_CASE("virtio-net: control commands without header or ack need a reset", "[virtio-net][malformed]") {
    SECTION("no ack byte") {
        NetHarness h;
        h.activate();
        h.ctrl.add_chain({{kCtrlBuffers, 3}});
        h.kick(2);
        CHECK(h.needs_reset == 1);
    }
    SECTION("a one-byte command") {
        NetHarness h;
        h.activate();
        h.ctrl.add_chain({{kCtrlBuffers, 1}, {kCtrlBuffers + 0x800, 1, true}});
        h.kick(2);
        CHECK(h.needs_reset == 1);
    }
    SECTION("a huge command gets an error, not a copy") {
        NetHarness h;
        h.activate();
        h.ctrl.add_chain({{kCtrlBuffers, 1 << 20}, {kCtrlBuffers + (1 << 20), 1, true}});
        h.rx.mem.write_obj(kCtrlBuffers, uint8_t(kClassMac));
        h.kick(2);
        CHECK(h.needs_reset == 0);
        CHECK(h.ctrl.read<uint8_t>(kCtrlBuffers + (1 << 20)) == kErr);
    }
}
