#pragma once
// Batches a busy device's traffic with its driver. While several requests
// are in flight the device keeps the driver's queue notifications off and
// picks new requests up whenever completions arrive, and holds completion
// interrupts back; a timer bounds both waits. So one guest exit carries
// several requests. Where exits are expensive (nested virtualization, no
// posted interrupts; measured: ~130 µs of guest time each in the nested test
// host) that guest time is what limits a deep queue; where they are cheap
// the wait stays a small share of what the requests take anyway:
//   delay = average request latency / latency_share, at most max_delay_ns;
// no batching when that is below min_delay_ns (fast disks: not worth the
// timer) or with fewer than min_in_flight requests in flight, so a lone
// request (iodepth 1) is never held.
// A guest that keeps many requests going but takes its completions more
// slowly than the disk delivers them leaves few in flight; the sign is that
// more than one new request arrives per completion event on average
// (linger_min_arrivals16 / 16). Then the queue stays polled, notifications
// off, for linger_ticks timer periods after each completion event: the
// guest's next requests come without a kick. At iodepth 1 exactly one
// arrives per completion, so it keeps its kicks and its latency.
// Loop thread only.
#include "base/unique_fd.h"

#include <cstdint>

namespace kestrel {

struct BatchLimits {
    unsigned latency_share = 8;
    uint64_t max_delay_ns = 2'000'000;
    uint64_t min_delay_ns = 20'000;
    unsigned min_in_flight = 2;
    unsigned linger_ticks = 8;
    unsigned linger_min_arrivals16 = 24;  // 1.5 requests per completion event
};

class CompletionBatcher {
public:
    explicit CompletionBatcher(BatchLimits limits = {});  // throws std::system_error if no timerfd
    CompletionBatcher(const CompletionBatcher&) = delete;
    CompletionBatcher& operator=(const CompletionBatcher&) = delete;

    void record_latency(uint64_t ns);
    uint64_t delay_ns() const;  // 0: no batching
    // Batch now? (notifications stay off, interrupts wait for the timer)
    bool busy(unsigned in_flight) const;
    // At a completion event: requests taken since the previous one.
    void completions_arrived(unsigned requests_taken);
    bool lingering() const { return linger_left_ > 0; }
    // Notifications off and the timer running: busy or lingering.
    bool keep_polling(unsigned in_flight) const { return busy(in_flight) || lingering(); }

    // Readable when the wait is over: call timer_fired(), then poll the
    // queues and raise the held interrupts.
    int timer_fd() const { return timer_fd_.get(); }
    void arm();  // starts the timer unless it runs
    void timer_fired();  // also counts down the linger periods
    void cancel();  // the device stops

private:
    BatchLimits limits_;
    UniqueFd timer_fd_;
    bool armed_ = false;
    uint64_t average_latency_ns_ = 0;
    unsigned arrivals16_ = 0;  // average requests per completion event, x16
    unsigned linger_left_ = 0;
};

} // namespace kestrel
