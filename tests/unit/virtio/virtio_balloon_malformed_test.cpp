// A misbehaving driver: page numbers outside guest RAM, repeated pages,
// lists longer than RAM, buffers the device cannot use. Each bad entry is
// skipped alone; nothing outside guest RAM is touched, the good entries
// still count, and every request is answered.
#include "balloon_test_harness.h"

#include "virtio/balloon/virtio_balloon_abi.h"

#include <catch2/catch.hpp>
#include <sys/mman.h>

using namespace kestrel;
using namespace kestrel::test;
using namespace kestrel::virtio_balloon;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kRamPages = kBalloonRam / kPage;

} // namespace

TEST_CASE("virtio-balloon: page numbers outside guest RAM are skipped one by one", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    h.fill(0x200000, 0x100000, 0x31);
    h.send_pfns(kInflateQueue, {kRamPages, 0x210, 0xffffffff, kRamPages + 1, 0x7fffffff, 0x211, 0x100000});
    CHECK_FALSE(h.resident(0x210 * kPage));
    CHECK_FALSE(h.resident(0x211 * kPage));
    CHECK(h.resident(0x212 * kPage));
    CHECK(h.rings[kInflateQueue].used_idx() == 1);
    CHECK(h.needs_reset == 0);

    h.send_pfns(kDeflateQueue, {0xffffffff, kRamPages, 0x210});
    CHECK(h.rings[kDeflateQueue].used_idx() == 1);
}

TEST_CASE("virtio-balloon: the last page of RAM can be given, the page after it cannot", "[virtio][balloon]") {
    // Host memory right after guest RAM: it must stay resident.
    BalloonHarness h;
    h.activate();
    h.fill(kBalloonRam - 2 * kPage, 2 * kPage, 0x44);
    h.send_pfns(kInflateQueue, {kRamPages - 1, kRamPages});
    CHECK_FALSE(h.resident(kBalloonRam - kPage));
    CHECK(h.resident(kBalloonRam - 2 * kPage));
}

TEST_CASE("virtio-balloon: repeated pages are given once", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    h.fill(0x200000, 0x10000, 0x21);
    h.send_pfns(kInflateQueue, {0x205, 0x205, 0x204, 0x205, 0x204, 0x206});
    for (uint64_t pfn : {0x204, 0x205, 0x206}) CHECK_FALSE(h.resident(pfn * kPage));
    CHECK(h.resident(0x203 * kPage));
    CHECK(h.resident(0x207 * kPage));
    CHECK(h.rings[kInflateQueue].used_idx() == 1);
}

TEST_CASE("virtio-balloon: a list longer than guest RAM is cut at its page count", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    h.fill(0x200000, 0x100000, 0x21);
    // 4096 entries (RAM has 2048 pages): page 0x220 after the cut is not given.
    std::vector<uint32_t> pfns(2 * kRamPages, 0x201);
    pfns[kRamPages - 1] = 0x210;
    pfns[kRamPages + 5] = 0x220;
    h.send_pfns(kInflateQueue, pfns);
    CHECK_FALSE(h.resident(0x201 * kPage));
    CHECK_FALSE(h.resident(0x210 * kPage));
    CHECK(h.resident(0x220 * kPage));
    CHECK(h.rings[kInflateQueue].used_idx() == 1);
}

TEST_CASE("virtio-balloon: a buffer as large as guest RAM full of garbage is answered", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    // The whole RAM as one page list: whatever it holds names pages or not.
    h.fill(0x200000, 0x200000, 0xff);
    h.rings[kInflateQueue].add_chain({{0, uint32_t(kBalloonRam)}});
    h.notify(kInflateQueue);
    CHECK(h.rings[kInflateQueue].used_idx() == 1);
    CHECK(h.needs_reset == 0);
}

TEST_CASE("virtio-balloon: lists without readable bytes, trailing bytes and odd chains", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    h.fill(0x200000, 0x10000, 0x21);
    auto& ring = h.rings[kInflateQueue];
    ring.add_chain({{0x100000, 64, true}});  // device-writable only: no pages
    const uint32_t pfn = 0x202;
    h.mem().write_obj(0x101000, pfn);
    ring.add_chain({{0x101000, 6}});  // one page and two stray bytes
    h.notify(kInflateQueue);
    CHECK(ring.used_idx() == 2);
    CHECK_FALSE(h.resident(0x202 * kPage));
    CHECK(h.resident(0x201 * kPage));
}

TEST_CASE("virtio-balloon: free page reports outside the rules give nothing back", "[virtio][balloon]") {
    VirtioBalloonConfig c;
    c.free_page_reporting = true;
    BalloonHarness h(c);
    h.activate();
    h.fill(0x400000, 0x200000, 0x5);
    auto& ring = h.rings[kReportingQueue];
    ring.add_chain({{0x400000, 0x1000}});        // device-readable: not a report
    ring.add_chain({{0x400001, 0x1fff, true}});  // not page aligned
    h.notify(kReportingQueue);
    CHECK(h.resident(0x400000));
    CHECK(h.resident(0x401000));
    CHECK(ring.used_idx() == 2);
    CHECK(h.needs_reset == 0);
    ring.add_chain({{0x7ff000, 0x2000, true}});  // past the end of RAM: a malformed chain
    h.notify(kReportingQueue);
    h.pump();
    CHECK(h.needs_reset == 1);
    CHECK(h.resident(0x5ff000));
}

TEST_CASE("virtio-balloon: garbage statistics are ignored record by record", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    std::vector<uint8_t> bytes(kStatRecordSize * 3 + 7, 0xee);  // unknown tags, a partial record
    uint16_t tag = 5;
    uint64_t value = 1234;
    std::memcpy(&bytes[kStatRecordSize], &tag, 2);
    std::memcpy(&bytes[kStatRecordSize + 2], &value, 8);
    h.mem().write(0x180000, bytes);
    h.rings[kStatsQueue].add_chain({{0x180000, uint32_t(bytes.size())}, {0x190000, 16, true}});
    h.notify(kStatsQueue);
    BalloonGuestStats s = h.balloon.guest_stats();
    CHECK(s.values[5] == 1234);
    CHECK(s.values[4] == UINT64_MAX);

    // A second buffer while the first is held: the first goes back.
    h.rings[kStatsQueue].add_chain({{0x180000, kStatRecordSize}});
    h.notify(kStatsQueue);
    CHECK(h.rings[kStatsQueue].used_idx() == 1);
    // A huge statistics buffer: read up to a bound, answered.
    h.rings[kStatsQueue].add_chain({{0, uint32_t(kBalloonRam)}});
    h.notify(kStatsQueue);
    CHECK(h.rings[kStatsQueue].used_idx() == 2);
}

TEST_CASE("virtio-balloon: a malformed ring asks for a reset", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    h.rings[kInflateQueue].set_desc(0, 0x100000, 16, kNext, 99);  // next beyond the ring
    h.rings[kInflateQueue].make_available(0);
    h.notify(kInflateQueue);
    h.pump();
    CHECK(h.needs_reset == 1);
}
