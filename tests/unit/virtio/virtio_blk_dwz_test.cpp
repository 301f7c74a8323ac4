// virtio-blk DISCARD and WRITE_ZEROES: segments, limits, flags.
#include "blk_test_harness.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;
using namespace kestrel::virtio_blk;

namespace {

constexpr uint64_t kSegments = kData + 0x8000;

uint8_t run_segments(BlkHarness& h, uint32_t type, const std::vector<DiscardSegment>& segs) {
    for (size_t i = 0; i < segs.size(); ++i) h.ring.mem.write_obj(kSegments + 16 * i, segs[i]);
    return h.run(type, 0, {{kSegments, uint32_t(16 * segs.size())}});
}

} // namespace

TEST_CASE("virtio-blk: WRITE_ZEROES and DISCARD reach the backend", "[virtio]") {
    BlkHarness h;
    h.activate();
    h.backend->fill_file(0, 8 * 512, 0x77);
    CHECK(run_segments(h, kTWriteZeroes, {{2, 3, kWriteZeroesFlagUnmap}}) == kSOk);
    CHECK(h.backend->file_bytes(0, 1024) == std::vector<uint8_t>(1024, 0x77));
    CHECK(h.backend->file_bytes(1024, 1536) == std::vector<uint8_t>(1536, 0));
    CHECK(h.backend->file_bytes(2560, 512) == std::vector<uint8_t>(512, 0x77));

    CHECK(run_segments(h, kTDiscard, {{100, 8, 0}}) == kSOk);
    REQUIRE(h.backend->ops.size() == 2);
    CHECK(h.backend->ops[0].op == BlockOp::WriteZeroes);
    CHECK(h.backend->ops[1].op == BlockOp::Discard);
    CHECK(h.backend->ops[1].offset == 100 * 512);
    CHECK(h.backend->ops[1].length == 8 * 512);
}

TEST_CASE("virtio-blk: DISCARD and WRITE_ZEROES limits and flags", "[virtio]") {
    VirtioBlkConfig c;
    c.max_discard_sectors = 64;
    c.max_discard_seg = 2;
    c.max_write_zeroes_sectors = 32;
    BlkHarness h(c);
    h.activate();
    SECTION("several segments up to max_discard_seg") {
        CHECK(run_segments(h, kTDiscard, {{0, 8, 0}, {64, 8, 0}}) == kSOk);
        CHECK(h.backend->ops.size() == 2);
        CHECK(run_segments(h, kTDiscard, {{0, 8, 0}, {64, 8, 0}, {128, 8, 0}}) == kSUnsupp);
        CHECK(run_segments(h, kTWriteZeroes, {{0, 8, 0}, {64, 8, 0}}) == kSUnsupp);  // seg max 1
    }
    SECTION("more sectors than allowed") {
        CHECK(run_segments(h, kTDiscard, {{0, 65, 0}}) == kSIoErr);
        CHECK(run_segments(h, kTWriteZeroes, {{0, 33, 0}}) == kSIoErr);
        CHECK(run_segments(h, kTWriteZeroes, {{0, 32, 0}}) == kSOk);
    }
    SECTION("past the end of the disk") {
        CHECK(run_segments(h, kTDiscard, {{2047, 2, 0}}) == kSIoErr);
        CHECK(run_segments(h, kTDiscard, {{0, 8, 0}, {4000, 8, 0}}) == kSIoErr);
        CHECK(h.backend->ops.empty());  // nothing is done when one segment is bad
    }
    SECTION("flags") {
        CHECK(run_segments(h, kTWriteZeroes, {{0, 8, 2}}) == kSUnsupp);
        CHECK(run_segments(h, kTDiscard, {{0, 8, kWriteZeroesFlagUnmap}}) == kSUnsupp);
        CHECK(h.backend->ops.empty());
    }
    SECTION("a payload that is not whole segments") {
        CHECK(h.run(kTDiscard, 0, {{kSegments, 24}}) == kSUnsupp);
        CHECK(h.needs_reset == 0);
    }
    SECTION("no segment at all: the device needs a reset") {
        h.run(kTDiscard, 0, {});
        CHECK(h.needs_reset == 1);
    }
}

TEST_CASE("virtio-blk: DISCARD not offered is UNSUPP", "[virtio]") {
    VirtioBlkConfig c;
    c.discard = false;
    c.write_zeroes = false;
    BlkHarness h(c);
    CHECK((h.blk.device_features() >> kFDiscard & 1) == 0);
    CHECK((h.blk.device_features() >> kFWriteZeroes & 1) == 0);
    CHECK(h.blk.config_size() == 36);
    h.activate();
    CHECK(run_segments(h, kTDiscard, {{0, 8, 0}}) == kSUnsupp);
    CHECK(run_segments(h, kTWriteZeroes, {{0, 8, 0}}) == kSUnsupp);
}
