#include "net/frame_queue.h"

#include <catch2/catch.hpp>
#include <poll.h>

using namespace kestrel;

namespace {

bool readable(const FrameQueue& q) {
    pollfd p{q.fd(), POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

size_t pop_len(FrameQueue& q) {
    uint8_t buf[64];
    iovec v{buf, sizeof buf};
    return q.pop({&v, 1});
}

} // namespace

TEST_CASE("frame queue: its event is readable exactly while frames wait", "[net]") {
    FrameQueue q(4);
    CHECK_FALSE(readable(q));
    const uint8_t a[3] = {1, 2, 3}, b[5] = {};
    REQUIRE(q.push(std::span<const uint8_t>(a)));
    REQUIRE(q.push(std::span<const uint8_t>(b)));
    CHECK(readable(q));
    CHECK(pop_len(q) == 3);
    CHECK(readable(q));  // one frame still waits
    CHECK(pop_len(q) == 5);
    CHECK_FALSE(readable(q));
    CHECK(pop_len(q) == 0);
    REQUIRE(q.push(std::span<const uint8_t>(a)));  // a new burst signals again
    CHECK(readable(q));
    q.clear();
    CHECK_FALSE(readable(q));
}

TEST_CASE("frame queue: a full queue drops and keeps its order", "[net]") {
    FrameQueue q(2);
    const uint8_t one[1] = {1}, two[2] = {}, three[3] = {};
    CHECK(q.push(std::span<const uint8_t>(one)));
    CHECK(q.push(std::span<const uint8_t>(two)));
    CHECK_FALSE(q.push(std::span<const uint8_t>(three)));
    CHECK(pop_len(q) == 1);
    CHECK(pop_len(q) == 2);
    CHECK_FALSE(readable(q));
}
