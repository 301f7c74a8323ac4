#include "test_ring.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

uint8_t* host(TestRing& r, uint64_t gpa) { return r.mem.host_ptr(gpa, 1); }

} // namespace

TEST_CASE("virtqueue: a chain pops as readable then writable buffers", "[virtio]") {
    TestRing r;
    Virtqueue vq(r.mem, r.layout);
    VirtqueueChain chain;
    REQUIRE(vq.pop(chain) == PopResult::Empty);

    const uint16_t head = r.add_chain({{0x10000, 16}, {0x11000, 512}, {0x12000, 1, true}});
    REQUIRE(vq.pop(chain) == PopResult::Chain);
    CHECK(chain.head == head);
    REQUIRE(chain.buffers.size() == 3);
    CHECK(chain.readable == 2);
    CHECK(chain.buffers[0].iov_base == host(r, 0x10000));
    CHECK(chain.buffers[1].iov_len == 512);
    CHECK(chain.writable_buffers().size() == 1);
    CHECK(chain.writable_buffers()[0].iov_base == host(r, 0x12000));
    CHECK(vq.pop(chain) == PopResult::Empty);

    vq.push(head, 1);
    CHECK(r.used_idx() == 1);
    CHECK(r.used_id(0) == head);
    CHECK(r.used_len(0) == 1);
    CHECK_FALSE(vq.broken());
}

TEST_CASE("virtqueue: several chains in order, and indices wrap past 65535", "[virtio]") {
    TestRing r(4);
    Virtqueue vq(r.mem, r.layout);
    VirtqueueChain chain;
    for (unsigned i = 0; i < 70000; ++i) {
        const uint16_t a = r.add_chain({{0x10000, 8}, {0x11000, 8, true}});
        const uint16_t b = r.add_chain({{0x12000, 4, true}});
        REQUIRE(vq.pop(chain) == PopResult::Chain);
        REQUIRE(chain.head == a);
        REQUIRE(vq.pop(chain) == PopResult::Chain);
        REQUIRE(chain.head == b);
        REQUIRE(chain.readable == 0);
        vq.push(b, 4);
        vq.push(a, 8);
    }
    CHECK(r.used_idx() == uint16_t(140000));
    CHECK(vq.last_avail_idx() == uint16_t(140000));
    CHECK_FALSE(vq.broken());
}

TEST_CASE("virtqueue: indirect descriptors", "[virtio]") {
    TestRing r;
    r.layout.indirect = true;
    Virtqueue vq(r.mem, r.layout);
    VirtqueueChain chain;
    const uint16_t head = r.add_indirect_chain(
        0x8000, {{0x10000, 16}, {0x11000, 4096, true}, {0x13000, 1, true}});
    REQUIRE(vq.pop(chain) == PopResult::Chain);
    CHECK(chain.head == head);
    REQUIRE(chain.buffers.size() == 3);
    CHECK(chain.readable == 1);
    CHECK(chain.buffers[1].iov_base == host(r, 0x11000));
    CHECK(chain.buffers[2].iov_len == 1);

    SECTION("after direct descriptors") {
        r.set_desc(5, 0x10000, 16, kNext, 6);
        r.set_table_desc(0x9000, 0, 0x11000, 8, kWrite);
        r.set_desc(6, 0x9000, 16, kIndirect | kWrite);  // WRITE on it is ignored
        r.make_available(5);
        REQUIRE(vq.pop(chain) == PopResult::Chain);
        CHECK(chain.buffers.size() == 2);
        CHECK(chain.readable == 1);
    }
}

TEST_CASE("virtqueue: interrupt suppression without event idx", "[virtio]") {
    TestRing r;
    Virtqueue vq(r.mem, r.layout);
    CHECK_FALSE(vq.needs_interrupt());  // nothing pushed
    vq.push(0, 0);
    CHECK(vq.needs_interrupt());
    CHECK_FALSE(vq.needs_interrupt());  // already answered for that push
    r.set_avail_flags(1);               // VIRTQ_AVAIL_F_NO_INTERRUPT
    vq.push(1, 0);
    CHECK_FALSE(vq.needs_interrupt());

    vq.disable_notification();
    CHECK(r.used_flags() == 1);  // VIRTQ_USED_F_NO_NOTIFY
    CHECK_FALSE(vq.enable_notification());
    CHECK(r.used_flags() == 0);
    r.add_chain({{0x10000, 8}});
    vq.disable_notification();
    CHECK(vq.enable_notification());  // arrived while notifications were off
}

TEST_CASE("virtqueue: event idx decides interrupts and notifications", "[virtio]") {
    TestRing r(8);
    r.layout.event_idx = true;
    Virtqueue vq(r.mem, r.layout);
    VirtqueueChain chain;

    // The first batch always interrupts (nothing signalled yet).
    vq.push(0, 0);
    CHECK(vq.needs_interrupt());
    // used_event = 1: the driver wants to hear when entry 1 is used.
    r.set_used_event(1);
    vq.push(0, 0);  // used idx 1 -> 2 crosses 1
    CHECK(vq.needs_interrupt());
    vq.push(0, 0);  // 2 -> 3, event still 1: already passed
    CHECK_FALSE(vq.needs_interrupt());
    r.set_used_event(5);
    vq.push(0, 0);  // 3 -> 4
    CHECK_FALSE(vq.needs_interrupt());
    vq.push(0, 0);
    vq.push(0, 0);  // 4 -> 6 crosses 5 in one batch
    CHECK(vq.needs_interrupt());

    // avail_event follows what the device has taken.
    r.add_chain({{0x10000, 8}});
    r.add_chain({{0x10000, 8}});
    REQUIRE(vq.pop(chain) == PopResult::Chain);
    CHECK(r.avail_event() == 1);
    REQUIRE(vq.pop(chain) == PopResult::Chain);
    CHECK(r.avail_event() == 2);
    CHECK_FALSE(vq.enable_notification());
    r.add_chain({{0x10000, 8}});
    CHECK(vq.enable_notification());
    CHECK(r.used_flags() == 0);  // the flag is not used with event idx
}

TEST_CASE("virtqueue: event idx comparison wraps around 65535", "[virtio]") {
    TestRing r(8);
    r.layout.event_idx = true;
    Virtqueue vq(r.mem, r.layout);
    r.set_used_event(0);
    for (unsigned i = 0; i < 65533; ++i) vq.push(0, 0);
    CHECK(vq.needs_interrupt());  // first answer
    REQUIRE(vq.used_idx() == 65533);
    r.set_used_event(65535);
    vq.push(0, 0);  // 65533 -> 65534
    CHECK_FALSE(vq.needs_interrupt());
    vq.push(0, 0);
    vq.push(0, 0);  // 65534 -> 0 crosses 65535
    CHECK(vq.used_idx() == 0);
    CHECK(vq.needs_interrupt());
    r.set_used_event(2);
    vq.push(0, 0);  // 0 -> 1
    CHECK_FALSE(vq.needs_interrupt());
    vq.push(0, 0);
    vq.push(0, 0);  // 1 -> 3 crosses 2
    CHECK(vq.needs_interrupt());
    // An event far behind (already passed before the wrap) does not fire.
    r.set_used_event(65000);
    vq.push(0, 0);
    CHECK_FALSE(vq.needs_interrupt());
}
