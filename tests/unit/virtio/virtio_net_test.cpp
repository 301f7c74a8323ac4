// virtio-net against the driver's side of its rings: features, config
// space, transmit, receive (straight into the first buffer with the overflow
// copied on, or bounced; merged and not), the
// receive filter, the control queue, link status.
#include "net_test_harness.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;
using namespace kestrel::virtio_net;

namespace {

constexpr unsigned kHdr = 12;

uint16_t num_buffers(const NetHarness& h, uint64_t gpa) {
    uint16_t n;
    std::memcpy(&n, h.guest(gpa + kHdrNumBuffersOffset, 2).data(), 2);
    return n;
}

} // namespace

TEST_CASE("virtio-net offers offloads only with a backend that carries the vnet header", "[virtio-net]") {
    NetHarness with(true), without(false);
    CHECK((with.net.device_features() & kHeaderOffloads) == kHeaderOffloads);
    CHECK((without.net.device_features() & kHeaderOffloads) == 0);
    for (NetHarness* h : {&with, &without}) {
        CHECK(h->net.device_features() & bit(kFMac));
        CHECK(h->net.device_features() & bit(kVirtioFVersion1));
        CHECK_FALSE(h->net.device_features() & bit(kFSpeedDuplex));  // QEMU: only with speed= or duplex=
        CHECK_FALSE(h->net.device_features() & bit(kFMq));
        CHECK(h->net.config_size() == 8);
        uint8_t cfg[8];
        h->net.read_config(0, cfg);
        CHECK(std::equal(cfg, cfg + 6, kMac.bytes.begin()));
        CHECK(cfg[6] == kStatusLinkUp);
    }
    CHECK((NetHarness(true, bit(kFCtrlVq)).net.device_features() & bit(kFCtrlRx)) == 0);
}

TEST_CASE("virtio-net transmits the driver's frames, with or without the vnet header", "[virtio-net]") {
    for (bool vnet : {true, false}) {
        for (bool split : {false, true}) {
            INFO("vnet header " << vnet << ", header in its own buffer " << split);
            NetHarness h(vnet);
            h.activate();
            CHECK(h.backend.hdr_len == (vnet ? kHdr : 0));
            auto f = NetHarness::frame(kMac, 1000);
            h.send(f, kHdr, split);
            REQUIRE(h.backend.sent.size() == 1);
            std::vector<uint8_t> expected(vnet ? kHdr : 0, 0);
            expected.insert(expected.end(), f.begin(), f.end());
            CHECK(h.backend.sent[0] == expected);
            auto used = h.used(h.tx);
            REQUIRE(used.size() == 1);
            CHECK(used[0].len == 0);
            CHECK(h.interrupts[1] == 1);
            CHECK(h.needs_reset == 0);
        }
    }
}

TEST_CASE("virtio-net receives into the driver's buffers and merges small ones", "[virtio-net]") {
    SECTION("enough room for the largest frame: the first buffer read straight, the rest copied on") {
        NetHarness h;
        h.activate();
        h.post_rx(10, 8192);  // 80 KiB: more than a 64 KiB GSO frame needs
        auto f = NetHarness::frame(kMac, 10000);
        h.inject(f);
        auto used = h.used(h.rx);
        REQUIRE(used.size() == 2);  // 12 + 10000 bytes over two 8 KiB buffers
        CHECK(used[0].len == 8192);
        CHECK(used[1].len == kHdr + 10000 - 8192);
        CHECK(num_buffers(h, kRxBuffers) == 2);
        auto got = h.guest(kRxBuffers + kHdr, 10000);
        CHECK(got == f);
        CHECK(h.interrupts[0] >= 1);
        CHECK(h.net.counters().rx_frames == 1);
        // The buffers the device took ahead and did not need are still the driver's.
        h.inject(NetHarness::frame(kMac, 100, 9));
        used = h.used(h.rx);
        REQUIRE(used.size() == 3);
        CHECK(used[2].id == 2);
        CHECK(used[2].len == kHdr + 100);
    }
    SECTION("many small buffers: one read into the first, the overflow copied on") {
        for (bool vnet_hdr : {true, false}) {
            NetHarness h(vnet_hdr);
            h.activate();
            h.post_rx(40, 2048);  // 80 KiB in 2 KiB buffers, as Linux posts them
            auto small = NetHarness::frame(kMac, 1514, 1);
            h.inject(small);
            auto used = h.used(h.rx);
            REQUIRE(used.size() == 1);
            CHECK(used[0].len == kHdr + 1514);
            CHECK(h.guest(kRxBuffers + kHdr, 1514) == small);
            CHECK(h.backend.receive_iovs <= 3);  // not one entry per buffer held
            auto big = NetHarness::frame(kMac, 5000, 2);  // over three buffers
            h.inject(big);
            used = h.used(h.rx);
            REQUIRE(used.size() == 4);
            CHECK(used[1].len == 2048);
            CHECK(used[3].len == kHdr + 5000 - 2 * 2048);
            CHECK(num_buffers(h, kRxBuffers + 2048) == 3);
            CHECK(h.guest(kRxBuffers + 2048 + kHdr, 5000) == big);
            auto after = NetHarness::frame(kMac, 60, 3);  // lands in the next buffer, not the spilled ones
            h.inject(after);
            used = h.used(h.rx);
            REQUIRE(used.size() == 5);
            CHECK(used[4].id == 4);
            CHECK(h.guest(kRxBuffers + 4 * 2048 + kHdr, 60) == after);
            CHECK(h.backend.receive_iovs > 30);  // after a big frame: into every buffer, no copy
            h.inject(NetHarness::frame(kMac, 60, 4));
            REQUIRE(h.used(h.rx).size() == 6);
            CHECK(h.backend.receive_iovs <= 3);  // a small frame again: back to the short read
            CHECK(h.net.counters().rx_frames == 4);
        }
    }
    SECTION("little room: through a bounce buffer") {
        NetHarness h;
        h.activate();
        h.post_rx(4, 1536);
        auto f = NetHarness::frame(kMac, 3000);
        h.inject(f);
        auto used = h.used(h.rx);
        REQUIRE(used.size() == 2);
        CHECK(num_buffers(h, kRxBuffers) == 2);
        auto got = h.guest(kRxBuffers + kHdr, 1536 - kHdr);
        auto rest = h.guest(kRxBuffers + 1536, 3000 - (1536 - kHdr));
        got.insert(got.end(), rest.begin(), rest.end());
        CHECK(got == f);
        // A frame larger than every posted buffer together is dropped.
        h.inject(NetHarness::frame(kMac, 5000));
        CHECK(h.used(h.rx).size() == 2);
        CHECK(h.net.counters().rx_dropped == 1);
    }
    SECTION("no buffers: the frame waits for the driver's next ones") {
        NetHarness h;
        h.activate();
        h.inject(NetHarness::frame(kMac, 200));
        CHECK(h.used(h.rx).empty());
        h.post_rx(1, 2048);
        auto used = h.used(h.rx);
        REQUIRE(used.size() == 1);
        CHECK(used[0].len == kHdr + 200);
    }
    SECTION("without mergeable buffers: one buffer per frame, header of 12 with num_buffers 1") {
        NetHarness h;
        h.activate(bit(kFMrgRxbuf));
        h.post_rx(2, 2048);
        h.inject(NetHarness::frame(kMac, 600));
        auto used = h.used(h.rx);
        REQUIRE(used.size() == 1);
        CHECK(used[0].len == kHdr + 600);
        CHECK(num_buffers(h, kRxBuffers) == 1);
    }
    SECTION("a backend without vnet header: the device writes a zero header") {
        NetHarness h(false);
        h.activate();
        h.post_rx(4, 2048);
        std::memset(h.rx.mem.host_ptr(kRxBuffers, 12), 0xaa, 12);
        auto f = NetHarness::frame(kMac, 300);
        h.inject(f);
        REQUIRE(h.used(h.rx).size() == 1);
        auto header = h.guest(kRxBuffers, 10);
        CHECK(header == std::vector<uint8_t>(10, 0));
        CHECK(h.guest(kRxBuffers + kHdr, 300) == f);
    }
}

TEST_CASE("virtio-net's receive filter follows the control queue", "[virtio-net]") {
    NetHarness h;
    h.activate();
    h.post_rx(20, 8192);
    const MacAddress other{{0x52, 0x54, 0x00, 0x99, 0x99, 0x99}};
    h.inject(NetHarness::frame(other, 100));  // promiscuous after reset, as QEMU
    CHECK(h.used(h.rx).size() == 1);
    CHECK(h.command(kClassRx, kRxPromisc, {0}) == kOk);
    h.inject(NetHarness::frame(other, 100));
    CHECK(h.used(h.rx).size() == 1);
    h.inject(NetHarness::frame(kMac, 100));
    CHECK(h.used(h.rx).size() == 2);
    const MacAddress broadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    h.inject(NetHarness::frame(broadcast, 100));
    CHECK(h.used(h.rx).size() == 3);
    CHECK(h.command(kClassRx, kRxNobcast, {1}) == kOk);
    h.inject(NetHarness::frame(broadcast, 100));
    CHECK(h.used(h.rx).size() == 3);
    // A unicast table entry lets `other` in.
    std::vector<uint8_t> table{1, 0, 0, 0};
    table.insert(table.end(), other.bytes.begin(), other.bytes.end());
    table.insert(table.end(), {0, 0, 0, 0});
    CHECK(h.command(kClassMac, kMacTableSet, table) == kOk);
    h.inject(NetHarness::frame(other, 100));
    CHECK(h.used(h.rx).size() == 4);
    auto info = h.net.query_rx_filter();
    REQUIRE(info);
    CHECK_FALSE(info->promiscuous);
    CHECK(info->unicast_table == std::vector<std::string>{"52:54:00:99:99:99"});
    CHECK(info->main_mac == "52:54:00:12:34:56");
    CHECK(info->vlan == "none");  // CTRL_VLAN negotiated and no VLAN added
}

TEST_CASE("virtio-net's control commands: texts QEMU accepts and refuses", "[virtio-net]") {
    NetHarness h;
    h.activate();
    CHECK(h.command(kClassMac, kMacAddrSet, {0x52, 0x54, 0, 1, 2, 3}) == kOk);
    CHECK(h.net.nic_info() == "model=virtio-net-pci,macaddr=52:54:00:01:02:03");
    CHECK(h.command(kClassMac, kMacAddrSet, {1, 2, 3}) == kErr);
    CHECK(h.command(kClassRx, kRxPromisc, {1, 1}) == kErr);
    CHECK(h.command(kClassRx, 99, {1}) == kErr);
    CHECK(h.command(kClassVlan, kVlanAdd, {5, 0}) == kOk);
    CHECK(h.command(kClassVlan, kVlanAdd, {0, 0x10}) == kErr);  // 4096
    CHECK(h.net.query_rx_filter()->vlan_table == std::vector<int64_t>{5});
    CHECK(h.command(kClassMq, kMqVqPairsSet, {1, 0}) == kErr);     // MQ not offered
    CHECK(h.command(kClassAnnounce, kAnnounceAck, {}) == kErr);    // nothing announced
    CHECK(h.command(kClassGuestOffloads, kGuestOffloadsSet, {0, 0, 0, 0, 0, 0, 0, 0}) == kOk);
    CHECK(h.backend.offloads == NetOffloads{});
    CHECK(h.command(kClassGuestOffloads, kGuestOffloadsSet, {0, 0, 0, 0, 0, 0, 0, 0x80}) == kErr);
    CHECK(h.command(77, 0, {}) == kErr);
    // MAC tables: a count beyond the data, or data beyond the count.
    CHECK(h.command(kClassMac, kMacTableSet, {2, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0}) == kErr);
    CHECK(h.command(kClassMac, kMacTableSet, {0, 0, 0, 0, 0, 0, 0, 0, 9}) == kErr);
    CHECK(h.command(kClassMac, kMacTableSet, {0xff, 0xff, 0xff, 0xff}) == kErr);
    // More entries than the table holds: overflow, everything passes.
    std::vector<uint8_t> big{65, 0, 0, 0};
    big.resize(4 + 65 * 6, 0x02);
    big.insert(big.end(), {0, 0, 0, 0});
    CHECK(h.command(kClassMac, kMacTableSet, big) == kOk);
    CHECK(h.net.query_rx_filter()->unicast_overflow);
    CHECK(h.needs_reset == 0);
}

TEST_CASE("virtio-net link down: carrier off in the config space, frames dropped", "[virtio-net]") {
    NetHarness h;
    h.activate();
    h.post_rx(10, 8192);
    h.backend.set_link_down(true);
    h.net.link_status_changed();
    h.pump();
    uint8_t status[2];
    h.net.read_config(cfg::kStatus, status);
    CHECK(status[0] == 0);
    CHECK(h.config_changes == 1);
    h.send(NetHarness::frame(kMac, 100));
    CHECK(h.backend.sent.empty());
    CHECK(h.used(h.tx).size() == 1);  // consumed all the same
    h.inject(NetHarness::frame(kMac, 100));
    CHECK(h.used(h.rx).empty());
    h.backend.set_link_down(false);
    h.net.link_status_changed();
    h.pump();
    h.net.read_config(cfg::kStatus, status);
    CHECK(status[0] == kStatusLinkUp);
    h.send(NetHarness::frame(kMac, 100));
    CHECK(h.backend.sent.size() == 1);
}
