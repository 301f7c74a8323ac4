#include "balloon_test_harness.h"

#include "virtio/balloon/virtio_balloon_abi.h"

#include <catch2/catch.hpp>
#include <ctime>

using namespace kestrel;
using namespace kestrel::test;
using namespace kestrel::virtio_balloon;

namespace {

constexpr uint64_t kPage = 4096;

// Ten statistics records (tag, value) as Linux's driver sends them.
std::vector<uint8_t> stats_records(const std::vector<std::pair<uint16_t, uint64_t>>& stats) {
    std::vector<uint8_t> bytes;
    for (auto [tag, value] : stats) {
        uint8_t record[kStatRecordSize];
        std::memcpy(record, &tag, 2);
        std::memcpy(record + 2, &value, 8);
        bytes.insert(bytes.end(), record, record + kStatRecordSize);
    }
    return bytes;
}

uint16_t send_stats(BalloonHarness& h, const std::vector<uint8_t>& bytes, uint64_t at = 0x180000) {
    h.mem().write(at, bytes);
    uint16_t head = h.rings[kStatsQueue].add_chain({{at, uint32_t(bytes.size())}});
    h.notify(kStatsQueue);
    return head;
}

} // namespace

TEST_CASE("virtio-balloon: features, queues and config space as QEMU's", "[virtio][balloon]") {
    BalloonHarness plain;
    CHECK(plain.balloon.device_type() == 5);
    CHECK(plain.balloon.device_features() == (1ull << kFStatsVq | 1ull << kFPagePoison | 1ull << 32 | 1ull << 29 |
                                              1ull << 28));
    CHECK(plain.balloon.num_queues() == 3);
    CHECK(plain.balloon.config_size() == 16);
    CHECK(plain.balloon.queue_max_size(0) == 128);
    CHECK(plain.balloon.queue_max_size(2) == 128);

    VirtioBalloonConfig c;
    c.deflate_on_oom = true;
    c.free_page_reporting = true;
    c.page_poison = false;
    BalloonHarness all(c);
    const uint64_t f = all.balloon.device_features();
    CHECK((f >> kFDeflateOnOom & 1) == 1);
    CHECK((f >> kFReporting & 1) == 1);
    CHECK((f >> kFPagePoison & 1) == 0);
    CHECK((f >> kFFreePageHint & 1) == 0);
    CHECK(all.balloon.num_queues() == 4);
    CHECK(all.balloon.queue_max_size(kReportingQueue) == 32);
    CHECK(all.balloon.config_size() == 8);
}

TEST_CASE("virtio-balloon: a target becomes num_pages; the guest's actual comes back", "[virtio][balloon]") {
    BalloonHarness h;
    std::vector<uint64_t> changes;
    h.balloon.on_change([&](uint64_t actual) { changes.push_back(actual); });
    CHECK(h.balloon.actual() == kBalloonRam);

    h.balloon.set_target(2 << 20);
    CHECK(h.config32(cfg::kNumPages) == (6 << 20) / kPage);
    CHECK(h.config_interrupts == 1);
    h.balloon.set_target(100 << 20);  // more than RAM: all of it
    CHECK(h.config32(cfg::kNumPages) == 0);
    h.balloon.set_target(0);  // ignored, as QEMU
    CHECK(h.config32(cfg::kNumPages) == 0);
    CHECK(h.config_interrupts == 2);

    h.write_config32(cfg::kActual, 512);
    CHECK(h.balloon.actual() == kBalloonRam - 512 * kPage);
    CHECK(h.config32(cfg::kActual) == 512);
    h.write_config32(cfg::kActual, 512);  // no change, no event
    h.write_config32(cfg::kNumPages, 7);  // the host's field
    CHECK(h.config32(cfg::kNumPages) == 0);
    h.pump();
    CHECK(changes == std::vector<uint64_t>{kBalloonRam - 512 * kPage});

    h.write_config32(cfg::kActual, 0xffffffff);  // more than the guest has
    CHECK(h.balloon.actual() == 0);
    uint8_t byte = 0x11;  // a partial write of actual's second byte
    h.balloon.write_config(cfg::kActual + 1, {&byte, 1});
    CHECK(h.config32(cfg::kActual) == 0xffff11ff);
    CHECK(h.config32(200) == 0);
}

TEST_CASE("virtio-balloon: inflated pages go back to the host, others stay", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    h.fill(0x200000, 0x200000, 0x77);
    const uint16_t head = h.send_pfns(kInflateQueue, {0x200, 0x201, 0x202, 0x300, 0x3ff, 0x250});
    for (uint64_t pfn : {0x200, 0x201, 0x202, 0x300, 0x3ff, 0x250}) {
        CHECK_FALSE(h.resident(pfn * kPage));
        CHECK(h.byte(pfn * kPage) == 0);
    }
    CHECK(h.resident(0x203 * kPage));
    CHECK(h.byte(0x203 * kPage) == 0x77);
    CHECK(h.rings[kInflateQueue].used_idx() == 1);
    CHECK(h.rings[kInflateQueue].used_id(0) == head);
    CHECK(h.rings[kInflateQueue].used_len(0) == 0);
    CHECK(h.interrupts[kInflateQueue] == 1);

    h.send_pfns(kDeflateQueue, {0x200, 0x201});  // usable again: the guest writes and reads
    CHECK(h.rings[kDeflateQueue].used_idx() == 1);
    h.fill(0x200 * kPage, kPage, 0x42);
    CHECK(h.byte(0x200 * kPage + 9) == 0x42);
}

TEST_CASE("virtio-balloon: page numbers split across buffers are read whole", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    h.fill(0x200000, 0x10000, 0x55);
    const uint32_t pfns[2] = {0x201, 0x20f};
    h.mem().write(0x100000, {reinterpret_cast<const uint8_t*>(pfns), 3});
    h.mem().write(0x100800, {reinterpret_cast<const uint8_t*>(pfns) + 3, 5});
    h.rings[kInflateQueue].add_chain({{0x100000, 3}, {0x100800, 5}});
    h.notify(kInflateQueue);
    CHECK_FALSE(h.resident(0x201 * kPage));
    CHECK_FALSE(h.resident(0x20f * kPage));
    CHECK(h.resident(0x202 * kPage));
}

TEST_CASE("virtio-balloon: free page reports are discarded in whole pages", "[virtio][balloon]") {
    VirtioBalloonConfig c;
    c.free_page_reporting = true;
    BalloonHarness h(c);
    h.activate();
    h.fill(0x400000, 0x400000, 0x99);
    auto& ring = h.rings[kReportingQueue];
    const uint16_t head = ring.add_chain({{0x400000, 0x200000, true}, {0x700000, 0x1000, true}});
    h.notify(kReportingQueue);
    CHECK_FALSE(h.resident(0x400000));
    CHECK_FALSE(h.resident(0x5ff000));
    CHECK_FALSE(h.resident(0x700000));
    CHECK(h.resident(0x600000));
    CHECK(ring.used_idx() == 1);
    CHECK(ring.used_id(0) == head);
    CHECK(ring.used_len(0) == 0);

    // Not whole pages: skipped, the rest of the report still counts.
    ring.add_chain({{0x600100, 0x1000, true}, {0x600000, 0x800, true}, {0x680000, 0x1000, true}});
    h.notify(kReportingQueue);
    CHECK(h.resident(0x600000));
    CHECK(h.resident(0x601000));
    CHECK_FALSE(h.resident(0x680000));
    CHECK(ring.used_idx() == 2);
}

TEST_CASE("virtio-balloon: nothing is discarded while the guest poisons free pages", "[virtio][balloon]") {
    VirtioBalloonConfig c;
    c.free_page_reporting = true;
    BalloonHarness h(c);
    h.write_config32(cfg::kPoisonVal, 0xaaaaaaaa);
    h.activate();
    h.fill(0x400000, 0x200000, 0xaa);
    h.rings[kReportingQueue].add_chain({{0x400000, 0x200000, true}});
    h.notify(kReportingQueue);
    CHECK(h.resident(0x400000));
    CHECK(h.byte(0x400000) == 0xaa);
    CHECK(h.rings[kReportingQueue].used_idx() == 1);
}

TEST_CASE("virtio-balloon: statistics arrive, the buffer is held, the timer asks again", "[virtio][balloon]") {
    BalloonHarness h;
    h.activate();
    CHECK(h.balloon.guest_stats().last_update == 0);
    CHECK(h.balloon.guest_stats().values[4] == UINT64_MAX);
    send_stats(h, stats_records({{4, 111 << 20}, {5, 222 << 20}, {6, 150 << 20}, {42, 7}}));
    BalloonGuestStats s = h.balloon.guest_stats();
    CHECK(s.values[4] == 111 << 20);
    CHECK(s.values[5] == 222 << 20);
    CHECK(s.values[6] == 150 << 20);
    CHECK(s.values[0] == UINT64_MAX);  // not reported
    CHECK(s.last_update >= int64_t(std::time(nullptr)) - 5);
    CHECK(h.rings[kStatsQueue].used_idx() == 0);  // held until the host wants more

    h.balloon.set_stats_polling_interval(1);  // new: ask at once
    CHECK(h.pump_until([&] { return h.rings[kStatsQueue].used_idx() == 1; }));
    CHECK(h.interrupts[kStatsQueue] == 1);
    CHECK(h.rings[kStatsQueue].used_len(0) == 0);

    // The driver answers; a second later the device asks again.
    send_stats(h, stats_records({{4, 100 << 20}}), 0x181000);
    CHECK(h.balloon.guest_stats().values[4] == 100 << 20);
    CHECK(h.balloon.guest_stats().values[5] == UINT64_MAX);  // stale values are dropped
    CHECK(h.pump_until([&] { return h.rings[kStatsQueue].used_idx() == 2; }));

    h.balloon.set_stats_polling_interval(0);
    send_stats(h, stats_records({{4, 1}}), 0x182000);
    h.loop.run_once(1500);
    CHECK(h.rings[kStatsQueue].used_idx() == 2);
    CHECK(h.balloon.stats_polling_interval() == 0);
}

TEST_CASE("virtio-balloon: statistics wait while the machine is stopped", "[virtio][balloon]") {
    VirtioBalloonConfig c;
    c.stats_polling_interval = 1;
    BalloonHarness h(c);
    h.activate();
    send_stats(h, stats_records({{4, 5}}));
    h.balloon.set_running(false);
    h.loop.run_once(2500);
    h.pump();
    CHECK(h.rings[kStatsQueue].used_idx() == 0);
    h.balloon.set_running(true);
    CHECK(h.pump_until([&] { return h.rings[kStatsQueue].used_idx() == 1; }));
}

TEST_CASE("virtio-balloon: reset keeps the target, drops the held buffer and the poison", "[virtio][balloon]") {
    BalloonHarness h;
    h.balloon.set_target(4 << 20);
    h.write_config32(cfg::kActual, 100);
    h.write_config32(cfg::kPoisonVal, 5);
    h.activate();
    send_stats(h, stats_records({{4, 5}}));
    h.balloon.reset();
    VirtioBalloonState s = h.balloon.state();
    CHECK(s.num_pages == (4 << 20) / kPage);
    CHECK(s.actual == 100);
    CHECK(s.poison_val == 0);
    h.balloon.set_stats_polling_interval(1);
    h.loop.run_once(1500);
    CHECK(h.rings[kStatsQueue].used_idx() == 0);  // nothing to give back after a reset
}
