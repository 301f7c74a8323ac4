#include "virtio/completion_batcher.h"

#include <algorithm>
#include <cerrno>
#include <sys/timerfd.h>
#include <system_error>
#include <unistd.h>

namespace kestrel {

namespace {

void set_timer(int fd, uint64_t ns) {
    itimerspec when{};
    when.it_value.tv_sec = time_t(ns / 1'000'000'000);
    when.it_value.tv_nsec = long(ns % 1'000'000'000);
    timerfd_settime(fd, 0, &when, nullptr);
}

} // namespace

CompletionBatcher::CompletionBatcher(BatchLimits limits)
    : limits_(limits), timer_fd_(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) {
    if (!timer_fd_) throw std::system_error(errno, std::generic_category(), "timerfd_create");
}

// An exponential average over about the last 8 requests.
void CompletionBatcher::record_latency(uint64_t ns) {
    if (average_latency_ns_ == 0) {
        average_latency_ns_ = ns;
        return;
    }
    average_latency_ns_ = average_latency_ns_ - average_latency_ns_ / 8 + ns / 8;
}

uint64_t CompletionBatcher::delay_ns() const {
    const uint64_t delay = std::min(average_latency_ns_ / limits_.latency_share, limits_.max_delay_ns);
    return delay >= limits_.min_delay_ns ? delay : 0;
}

bool CompletionBatcher::busy(unsigned in_flight) const {
    return in_flight >= limits_.min_in_flight && delay_ns() > 0;
}

// An exponential average over about the last 4 completion events.
void CompletionBatcher::completions_arrived(unsigned requests_taken) {
    arrivals16_ = arrivals16_ - arrivals16_ / 4 + requests_taken * 4;
    const bool linger = delay_ns() > 0 && arrivals16_ >= limits_.linger_min_arrivals16;
    linger_left_ = linger ? limits_.linger_ticks : 0;
}

void CompletionBatcher::arm() {
    if (armed_) return;
    set_timer(timer_fd_.get(), delay_ns());
    armed_ = true;
}

void CompletionBatcher::timer_fired() {
    uint64_t expirations;
    [[maybe_unused]] ssize_t n = ::read(timer_fd_.get(), &expirations, sizeof expirations);
    armed_ = false;
    if (linger_left_ > 0) --linger_left_;
}

void CompletionBatcher::cancel() {
    set_timer(timer_fd_.get(), 0);
    armed_ = false;
    linger_left_ = 0;
}

} // namespace kestrel
