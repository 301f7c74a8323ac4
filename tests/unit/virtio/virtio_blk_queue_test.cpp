// virtio-blk queue handling: requests in flight, interrupt batching with
// event idx, malformed chains, and reset from the loop or another thread.
#include "blk_test_harness.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace kestrel;
using namespace kestrel::test;
using namespace kestrel::virtio_blk;

TEST_CASE("virtio-blk: several requests in flight complete in one interrupt", "[virtio]") {
    BlkHarness h;
    h.activate(true);
    h.backend->hold = true;
    for (unsigned i = 0; i < 5; ++i) h.add_request(kTIn, i, {{kData + 0x1000 * i, 512, true}});
    h.notify();
    CHECK(h.blk.in_flight() == 5);
    CHECK(h.backend->queued() == 5);
    CHECK(h.backend->kicks >= 1);
    CHECK(h.ring.used_idx() == 0);
    CHECK(h.interrupts == 0);
    h.backend->run_queued();
    h.pump();
    CHECK(h.blk.in_flight() == 0);
    CHECK(h.ring.used_idx() == 5);
    CHECK(h.interrupts == 1);
}

TEST_CASE("virtio-blk: event idx suppresses interrupts until used_event", "[virtio]") {
    BlkHarness h;
    h.activate(true);
    CHECK(h.run(kTFlush, 0, {}) == kSOk);
    CHECK(h.interrupts == 1);
    h.ring.set_used_event(3);  // interrupt when entry 3 is used (used idx 3 -> 4)
    CHECK(h.run(kTFlush, 0, {}) == kSOk);
    CHECK(h.run(kTFlush, 0, {}) == kSOk);
    CHECK(h.interrupts == 1);
    CHECK(h.run(kTFlush, 0, {}) == kSOk);
    CHECK(h.interrupts == 2);
    CHECK(h.ring.used_idx() == 4);
    // The device asks to be notified at the next avail entry.
    CHECK(h.ring.avail_event() == 4);
}

TEST_CASE("virtio-blk: VIRTQ_AVAIL_F_NO_INTERRUPT without event idx", "[virtio]") {
    BlkHarness h;
    h.activate(false);
    CHECK(h.run(kTFlush, 0, {}) == kSOk);
    CHECK(h.interrupts == 1);
    h.ring.set_avail_flags(1);
    CHECK(h.run(kTFlush, 0, {}) == kSOk);
    CHECK(h.interrupts == 1);
    CHECK(h.ring.used_flags() == 0);  // notifications enabled again when idle
}

TEST_CASE("virtio-blk: requests through indirect descriptors", "[virtio]") {
    BlkHarness h;
    h.activate();
    h.backend->fill_file(512, 512, 0x3c);
    h.ring.mem.write_obj(kData, RequestHeader{kTIn, 0, 1});
    h.ring.add_indirect_chain(0x8000, {{kData, 16}, {kData + 0x1000, 512, true}, {kData + 0x2000, 1, true}});
    h.notify();
    CHECK(h.ring.read<uint8_t>(kData + 0x2000) == kSOk);
    CHECK(h.guest_bytes(kData + 0x1000, 512) == std::vector<uint8_t>(512, 0x3c));
}

TEST_CASE("virtio-blk: malformed chains make the device need a reset", "[virtio]") {
    BlkHarness h;
    h.activate();
    SECTION("no writable buffer for the status") {
        h.ring.mem.write_obj(kData, RequestHeader{kTIn, 0, 0});
        h.ring.add_chain({{kData, 16}});
    }
    SECTION("header too short") { h.ring.add_chain({{kData, 8}, {kData + 0x100, 1, true}}); }
    SECTION("buffer outside guest RAM") {
        h.ring.add_chain({{kData, 16}, {uint64_t(1) << 40, 512, true}, {kData + 0x100, 1, true}});
    }
    SECTION("descriptor loop") {
        h.ring.set_desc(0, kData, 16, kNext, 1);
        h.ring.set_desc(1, kData + 0x100, 1, kNext | kWrite, 2);
        h.ring.set_desc(2, kData + 0x200, 1, kNext | kWrite, 1);
        h.ring.make_available(0);
    }
    h.notify();
    CHECK(h.needs_reset == 1);
    CHECK(h.ring.used_idx() == 0);
    CHECK(h.backend->ops.empty());
    // Further notifications change nothing and do not report again.
    h.add_request(kTFlush, 0, {});
    h.notify();
    CHECK(h.needs_reset == 1);
    CHECK(h.ring.used_idx() == 0);
    // After a reset and a new activation the device works again.
    h.blk.reset();
    h.ring.clear();
    h.activate();
    CHECK(h.run(kTFlush, 0, {}) == kSOk);
}

TEST_CASE("virtio-blk: reset on the loop thread drains requests in flight", "[virtio]") {
    BlkHarness h;
    h.activate();
    h.backend->hold = true;
    h.add_request(kTIn, 0, {{kData, 512, true}});
    h.notify();
    REQUIRE(h.blk.in_flight() == 1);
    std::thread finisher([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        h.backend->run_queued();  // the "engine" completes it later
    });
    // The test thread ran the loop, so it is the loop thread: reset inline.
    h.blk.reset();
    finisher.join();
    CHECK(h.blk.in_flight() == 0);
    CHECK(h.ring.used_idx() == 0);  // completions after reset are not pushed
    // No longer watching the queue.
    h.add_request(kTFlush, 0, {});
    h.notify();
    CHECK(h.ring.used_idx() == 0);
}

TEST_CASE("virtio-blk: reset from another thread waits for the loop", "[virtio]") {
    BlkHarness h;
    std::thread loop_thread([&] { h.loop.run(); });
    h.backend->hold = true;
    h.activate(true, true, false);  // posted to the running loop
    h.add_request(kTIn, 0, {{kData, 512, true}});
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(h.notify_fd, &one, sizeof one);
    for (int i = 0; i < 200 && h.backend->queued() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    REQUIRE(h.backend->queued() == 1);
    std::atomic<bool> reset_done = false;
    std::thread vcpu([&] {
        h.blk.reset();
        reset_done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(reset_done);  // a request still points into guest memory
    h.backend->run_queued();  // the engine completes it in the background
    vcpu.join();
    CHECK(reset_done);
    h.loop.stop();
    loop_thread.join();
    CHECK(h.blk.in_flight() == 0);
}

TEST_CASE("virtio-blk: reset before the loop started the queues cancels them", "[virtio]") {
    BlkHarness h;
    h.ring.layout.event_idx = true;
    h.vq = std::make_unique<Virtqueue>(h.ring.mem, h.ring.layout);
    VirtioActivation a{h.ring.mem, h.blk.device_features(), {}};
    a.queues.push_back({h.vq.get(), h.notify_fd, [&] { ++h.interrupts; }});
    h.blk.activate(std::move(a));
    h.blk.reset();  // the start is still posted
    h.add_request(kTFlush, 0, {});
    h.notify();     // runs the posted start, which must do nothing now
    CHECK(h.ring.used_idx() == 0);
    CHECK(h.backend->ops.empty());
}

TEST_CASE("virtio-blk: multiqueue requests complete on their own queue", "[virtio]") {
    VirtioBlkConfig c;
    c.num_queues = 2;
    BlkHarness h(c);
    TestRing ring1(h.ring, 0x8000);
    ring1.layout.event_idx = h.ring.layout.event_idx = true;
    h.vq = std::make_unique<Virtqueue>(h.ring.mem, h.ring.layout);
    Virtqueue vq1(ring1.mem, ring1.layout);
    const int notify1 = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int interrupts1 = 0;
    VirtioActivation a{h.ring.mem, h.blk.device_features(), {}};
    a.queues.push_back({h.vq.get(), h.notify_fd, [&] { ++h.interrupts; }});
    a.queues.push_back({&vq1, notify1, [&] { ++interrupts1; }});
    h.blk.activate(std::move(a));
    h.pump();

    h.backend->fill_file(0, 512, 0x5a);
    h.ring.mem.write_obj(kData, RequestHeader{kTIn, 0, 0});
    ring1.add_chain({{kData, 16}, {kData + 0x1000, 512, true}, {kData + 0x2000, 1, true}});
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(notify1, &one, sizeof one);
    h.pump();
    CHECK(ring1.used_idx() == 1);
    CHECK(h.ring.used_idx() == 0);
    CHECK(interrupts1 == 1);
    CHECK(h.interrupts == 0);
    CHECK(h.ring.read<uint8_t>(kData + 0x2000) == kSOk);
    CHECK(h.guest_bytes(kData + 0x1000, 512) == std::vector<uint8_t>(512, 0x5a));

    CHECK(h.run(kTFlush, 0, {}) == kSOk);
    CHECK(h.interrupts == 1);
    CHECK(interrupts1 == 1);
    h.blk.reset();
    close(notify1);
}

namespace {

// Batching as long as the requests take (at least 10 ms here), so that a
// loaded machine cannot fire the timer before the checks.
VirtioBlkConfig slow_disk_batching() {
    VirtioBlkConfig c;
    c.batching.latency_share = 1;
    c.batching.max_delay_ns = 10'000'000'000;
    return c;
}

// Requests the fake backend holds for 10 ms before completing: the device
// learns that this disk is slow.
void complete_slowly(BlkHarness& h, unsigned count) {
    h.backend->hold = true;
    for (unsigned i = 0; i < count; ++i) h.add_request(kTIn, i, {{kData + 0x1000 * i, 512, true}});
    h.notify();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    h.backend->run_queued();
    h.pump();
    h.ring.set_used_event(h.ring.used_idx());  // the driver consumed them all
}

// Pumps the loop until `done()` (or 5 s pass).
template <typename Done> void pump_until(BlkHarness& h, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        h.pump();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void pump_until_interrupts(BlkHarness& h, int count) {
    pump_until(h, [&] { return h.interrupts >= count; });
}

} // namespace

TEST_CASE("virtio-blk: a busy slow disk polls its queue and holds interrupts for the batch delay",
          "[virtio]") {
    BlkHarness h(slow_disk_batching());
    h.activate(true);
    complete_slowly(h, 4);
    const int interrupts = h.interrupts;
    const uint16_t avail_event = h.ring.avail_event();

    for (unsigned i = 0; i < 3; ++i) h.add_request(kTIn, i, {{kData + 0x1000 * i, 512, true}});
    h.notify();
    CHECK(h.blk.in_flight() == 3);
    // Busy: the device left avail_event behind, so the driver does not notify...
    CHECK(h.ring.avail_event() == avail_event);
    // ...and requests it adds are taken when completions arrive.
    h.backend->run_queued();
    for (unsigned i = 0; i < 2; ++i) h.add_request(kTOut, i, {{kData + 0x1000 * i, 512}});
    h.pump();
    CHECK(h.ring.used_idx() == 7);
    CHECK(h.blk.in_flight() == 2);
    CHECK(h.backend->queued() == 2);
    CHECK(h.interrupts == interrupts);  // held for the batch delay
    pump_until_interrupts(h, interrupts + 1);
    CHECK(h.interrupts == interrupts + 1);
    h.ring.set_used_event(h.ring.used_idx());

    // Below two in flight the interrupt is not held. More than one request
    // came per completion, so the queue lingers (polled) a few timer
    // periods before notifications are back on.
    h.backend->run_queued();
    h.pump();
    CHECK(h.interrupts == interrupts + 2);
    CHECK(h.ring.avail_event() == avail_event);
    pump_until(h, [&] { return h.ring.avail_event() == 9; });
    CHECK(h.ring.avail_event() == 9);
}

TEST_CASE("virtio-blk: a lingering queue takes the driver's next requests without a kick",
          "[virtio]") {
    BlkHarness h(slow_disk_batching());
    h.activate(true);
    complete_slowly(h, 4);
    complete_slowly(h, 4);  // 4 requests per completion event: the queue lingers
    const uint16_t avail_event = h.ring.avail_event();
    h.add_request(kTIn, 0, {{kData, 512, true}});  // no notify: the device polls
    pump_until(h, [&] { return h.blk.in_flight() == 1; });
    CHECK(h.blk.in_flight() == 1);
    CHECK(h.ring.avail_event() == avail_event);
    h.backend->run_queued();  // nothing left held when the device stops
    h.pump();
}

TEST_CASE("virtio-blk: a lone request on a slow disk is never held", "[virtio]") {
    BlkHarness h(slow_disk_batching());
    h.activate(true);
    complete_slowly(h, 1);
    CHECK(h.interrupts == 1);
    complete_slowly(h, 1);
    CHECK(h.interrupts == 2);
    CHECK(h.ring.avail_event() == 2);
}
