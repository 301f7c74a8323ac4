#include "virtio/completion_batcher.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <poll.h>
#include <thread>

using namespace kestrel;

namespace {

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1;
}

} // namespace

TEST_CASE("completion batcher: delay is a share of the average latency, capped", "[virtio]") {
    CompletionBatcher b;
    CHECK(b.delay_ns() == 0);  // nothing measured yet
    b.record_latency(8'000'000);
    CHECK(b.delay_ns() == 8'000'000 / BatchLimits{}.latency_share);
    for (int i = 0; i < 100; ++i) b.record_latency(400'000'000);
    CHECK(b.delay_ns() == BatchLimits{}.max_delay_ns);
}

TEST_CASE("completion batcher: fast disks and lone requests are not batched", "[virtio]") {
    CompletionBatcher b;
    b.record_latency(100'000);  // 100 µs: the delay would be below min_delay_ns
    CHECK(b.delay_ns() == 0);
    CHECK_FALSE(b.busy(32));
    for (int i = 0; i < 100; ++i) b.record_latency(10'000'000);
    CHECK(b.busy(BatchLimits{}.min_in_flight));
    CHECK_FALSE(b.busy(BatchLimits{}.min_in_flight - 1));
}

TEST_CASE("completion batcher: the timer fires once after the delay", "[virtio]") {
    CompletionBatcher b;
    b.record_latency(8'000'000);  // delay 1 ms
    b.arm();
    b.arm();  // running already: not restarted
    CHECK_FALSE(readable(b.timer_fd(), 0));
    CHECK(readable(b.timer_fd(), 1000));
    b.timer_fired();
    CHECK_FALSE(readable(b.timer_fd(), 5));
    b.arm();
    b.cancel();
    CHECK_FALSE(readable(b.timer_fd(), 5));
}

TEST_CASE("completion batcher: lingers after completions only while requests come in bunches",
          "[virtio]") {
    CompletionBatcher b;
    for (int i = 0; i < 10; ++i) b.record_latency(8'000'000);
    for (int i = 0; i < 10; ++i) b.completions_arrived(1);  // iodepth 1: one per completion
    CHECK_FALSE(b.lingering());
    CHECK_FALSE(b.keep_polling(0));
    for (int i = 0; i < 3; ++i) b.completions_arrived(3);
    CHECK(b.lingering());
    CHECK(b.keep_polling(0));
    for (unsigned i = 0; i < BatchLimits{}.linger_ticks; ++i) {
        CHECK(b.lingering());
        b.timer_fired();
    }
    CHECK_FALSE(b.lingering());
}

TEST_CASE("completion batcher: a fast disk never lingers", "[virtio]") {
    CompletionBatcher b;
    b.record_latency(50'000);
    for (int i = 0; i < 10; ++i) b.completions_arrived(8);
    CHECK_FALSE(b.lingering());
}
