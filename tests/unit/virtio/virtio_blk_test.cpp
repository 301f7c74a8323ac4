#include "blk_test_harness.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;
using namespace kestrel::virtio_blk;

TEST_CASE("virtio-blk: features and config space", "[virtio]") {
    VirtioBlkConfig c;
    c.num_queues = 4;
    BlkHarness h(c, false, 128);
    CHECK(h.blk.device_type() == 2);
    CHECK(h.blk.num_queues() == 4);
    CHECK(h.blk.max_queue_size() == 128);
    const uint64_t f = h.blk.device_features();
    for (unsigned bit : {kFSizeMax, kFSegMax, kFBlkSize, kFTopology, kFFlush, kFMq, kFDiscard,
                         kFWriteZeroes, kVirtioFVersion1, kVirtioFRingEventIdx,
                         kVirtioFRingIndirectDesc})
        CHECK((f >> bit & 1) == 1);
    CHECK((f >> kFRo & 1) == 0);

    uint64_t capacity = 0;
    h.blk.read_config(cfg::kCapacity, {reinterpret_cast<uint8_t*>(&capacity), 8});
    CHECK(capacity == kDiskSize / 512);
    CHECK(h.config32(cfg::kSegMax) == 126);
    CHECK(h.config32(cfg::kBlkSize) == 512);
    CHECK(h.config32(cfg::kMaxDiscardSectors) == 4194303);
    CHECK(h.config32(cfg::kMaxDiscardSeg) == 1);
    CHECK(h.config32(cfg::kDiscardSectorAlignment) == 1);
    CHECK(h.config32(cfg::kMaxWriteZeroesSectors) == 4194303);
    CHECK(h.config32(cfg::kMaxWriteZeroesSeg) == 1);
    uint8_t byte = 0;
    h.blk.read_config(cfg::kWriteZeroesMayUnmap, {&byte, 1});
    CHECK(byte == 1);
    h.blk.read_config(cfg::kWriteback, {&byte, 1});
    CHECK(byte == 1);
    uint16_t queues = 0;
    h.blk.read_config(cfg::kNumQueues, {reinterpret_cast<uint8_t*>(&queues), 2});
    CHECK(queues == 4);
    CHECK(h.blk.config_size() == 57);
    CHECK(h.config32(200) == 0);  // past the end reads as zero
}

TEST_CASE("virtio-blk: read-only disk without a volatile cache", "[virtio]") {
    EventLoop loop;
    VirtioBlkConfig c;
    c.backend = std::make_shared<FakeBlockBackend>(kDiskSize, true, false);
    c.loop = &loop;
    VirtioBlk blk(c);
    CHECK((blk.device_features() >> kFRo & 1) == 1);
    CHECK((blk.device_features() >> kFFlush & 1) == 0);
    CHECK((blk.device_features() >> kFMq & 1) == 0);
    uint8_t writeback = 0xff;
    blk.read_config(cfg::kWriteback, {&writeback, 1});
    CHECK(writeback == 0);
}

TEST_CASE("virtio-blk: OUT then IN round trip through split buffers", "[virtio]") {
    BlkHarness h;
    h.activate();
    for (unsigned i = 0; i < 1024; ++i) h.ring.mem.write_obj(kData + i, uint8_t(i * 7 + 1));
    // Two sectors at sector 3, in buffers of 100 and 924 bytes.
    const uint16_t head = h.add_request(kTOut, 3, {{kData, 100}, {kData + 100, 924}});
    h.notify();
    CHECK(h.status() == kSOk);
    CHECK(h.ring.used_idx() == 1);
    CHECK(h.ring.used_id(0) == head);
    CHECK(h.ring.used_len(0) == 1);
    CHECK(h.backend->file_bytes(3 * 512, 1024) == h.guest_bytes(kData, 1024));
    CHECK(h.backend->file_bytes(2 * 512, 512) == std::vector<uint8_t>(512, 0));

    h.add_request(kTIn, 3, {{kData + 0x10000, 1000, true}, {kData + 0x20000, 24, true}});
    h.notify();
    CHECK(h.status() == kSOk);
    CHECK(h.ring.used_len(1) == 1025);
    auto first = h.guest_bytes(kData + 0x10000, 1000);
    auto second = h.guest_bytes(kData + 0x20000, 24);
    first.insert(first.end(), second.begin(), second.end());
    CHECK(first == h.guest_bytes(kData, 1024));
    CHECK(h.needs_reset == 0);
}

TEST_CASE("virtio-blk: the status byte is the last byte of the last writable buffer", "[virtio]") {
    BlkHarness h;
    h.activate();
    h.backend->fill_file(0, 512, 0xab);
    // Data and status share one 513-byte buffer.
    h.add_request(kTIn, 0, {}, 513);
    h.notify();
    CHECK(h.status() == kSOk);
    CHECK(h.guest_bytes(h.status_gpa - 512, 512) == std::vector<uint8_t>(512, 0xab));
    CHECK(h.ring.used_len(0) == 513);
}

TEST_CASE("virtio-blk: FLUSH and GET_ID", "[virtio]") {
    VirtioBlkConfig c;
    SECTION("flush") {
        BlkHarness h(c);
        h.activate();
        CHECK(h.run(kTFlush, 0, {}) == kSOk);
        REQUIRE(h.backend->ops.size() == 1);
        CHECK(h.backend->ops[0].op == BlockOp::Flush);
    }
    SECTION("a long serial is cut at 20 bytes") {
        c.serial = "0123456789abcdefghijKLMN";
        BlkHarness h(c);
        h.activate();
        h.fill_guest(kData, 32, 0x55);
        CHECK(h.run(kTGetId, 0, {{kData, 32, true}}) == kSOk);
        auto id = h.guest_bytes(kData, 21);
        CHECK(std::string(id.begin(), id.begin() + 20) == "0123456789abcdefghij");
        CHECK(id[20] == 0x55);
        CHECK(h.ring.used_len(0) == 21);
    }
    SECTION("a short serial is NUL padded") {
        c.serial = "disk7";
        BlkHarness h(c);
        h.activate();
        h.fill_guest(kData, 32, 0x55);
        CHECK(h.run(kTGetId, 0, {{kData, 20, true}}) == kSOk);
        auto id = h.guest_bytes(kData, 20);
        CHECK(std::string(id.begin(), id.begin() + 5) == "disk7");
        CHECK(std::vector<uint8_t>(id.begin() + 5, id.end()) == std::vector<uint8_t>(15, 0));
    }
    SECTION("a small buffer gets what fits") {
        c.serial = "0123456789abcdefghij";
        BlkHarness h(c);
        h.activate();
        h.fill_guest(kData, 32, 0x55);
        CHECK(h.run(kTGetId, 0, {{kData, 8, true}}) == kSOk);
        CHECK(h.guest_bytes(kData, 9)[7] == '7');
        CHECK(h.guest_bytes(kData, 9)[8] == 0x55);
    }
}

TEST_CASE("virtio-blk: out-of-range and misaligned requests fail with IOERR", "[virtio]") {
    BlkHarness h;
    h.activate();
    CHECK(h.run(kTIn, 2047, {{kData, 512, true}}) == kSOk);     // the last sector
    CHECK(h.run(kTIn, 2047, {{kData, 1024, true}}) == kSIoErr);  // one past
    CHECK(h.run(kTOut, 2048, {{kData, 512}}) == kSIoErr);
    CHECK(h.run(kTIn, ~uint64_t(0), {{kData, 512, true}}) == kSIoErr);
    CHECK(h.run(kTOut, 0, {{kData, 100}}) == kSIoErr);  // not whole sectors
    CHECK(h.backend->ops.size() == 1);
    CHECK(h.ring.used_len(1) == 1);
    CHECK(h.needs_reset == 0);
}

TEST_CASE("virtio-blk: a backend error is IOERR", "[virtio]") {
    BlkHarness h;
    h.activate();
    h.backend->fail_with = -EIO;
    CHECK(h.run(kTIn, 0, {{kData, 512, true}}) == kSIoErr);
    CHECK(h.ring.used_len(0) == 1);
    CHECK(h.run(kTFlush, 0, {}) == kSIoErr);
}

TEST_CASE("virtio-blk: a read-only disk refuses writes", "[virtio]") {
    BlkHarness h({}, true);
    h.activate();
    h.backend->fill_file(0, 512, 0x11);
    h.fill_guest(kData, 512, 0x22);
    CHECK(h.run(kTOut, 0, {{kData, 512}}) == kSIoErr);
    CHECK(h.backend->file_bytes(0, 512) == std::vector<uint8_t>(512, 0x11));
    h.ring.mem.write_obj(kData + 0x1000, DiscardSegment{0, 1, 0});
    CHECK(h.run(kTWriteZeroes, 0, {{kData + 0x1000, 16}}) == kSIoErr);
    CHECK(h.run(kTIn, 0, {{kData, 512, true}}) == kSOk);
    CHECK(h.guest_bytes(kData, 512) == std::vector<uint8_t>(512, 0x11));
    CHECK(h.backend->ops.size() == 1);
}

TEST_CASE("virtio-blk: unknown request types are UNSUPP", "[virtio]") {
    BlkHarness h;
    h.activate();
    CHECK(h.run(2, 0, {}) == kSUnsupp);          // SCSI passthrough
    CHECK(h.run(10, 0, {}) == kSUnsupp);         // GET_LIFETIME
    CHECK(h.run(99, 0, {}) == kSUnsupp);
    CHECK(h.run(kTDiscard & ~kTOut, 0, {}) == kSUnsupp);  // discard without the OUT bit
    CHECK(h.backend->ops.empty());
    CHECK(h.ring.used_idx() == 4);
    CHECK(h.needs_reset == 0);
}

TEST_CASE("virtio-blk: VIRTIO_BLK_F_GEOMETRY with the disk's guessed geometry, as QEMU's", "[virtio]") {
    EventLoop loop;
    VirtioBlkConfig c;
    c.backend = std::make_shared<FakeBlockBackend>(kDiskSize);
    c.loop = &loop;
    c.geometry = HdGeometry{2080, 16, 63, BiosTranslation::None};
    VirtioBlk blk(c);
    CHECK((blk.device_features() >> kFGeometry & 1) == 1);
    uint8_t g[4] = {};
    blk.read_config(cfg::kGeometry, g);
    CHECK((g[0] | g[1] << 8) == 2080);  // SeaBIOS's pchs: LARGE translation, 520/64/63 as with QEMU
    CHECK(g[2] == 16);
    CHECK(g[3] == 63);
}
