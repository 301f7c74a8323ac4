#pragma once
// The host time the RTC counts from. Unit tests substitute a clock they set.
#include <cstdint>
#include <memory>
#include <string>

namespace kestrel {

class RtcClock {
public:
    virtual ~RtcClock() = default;
    // Host UTC time in nanoseconds since the epoch.
    virtual int64_t now_ns() const = 0;
};

// -rtc clock=host (default): the host's real-time clock, following its steps
// (NTP, settimeofday). clock=rt / clock=vm: the host's time at start-up, then
// advancing steadily with CLOCK_MONOTONIC. (kestrel has no paused "vm" clock
// yet, so vm runs on while the guest is stopped.)
std::shared_ptr<RtcClock> make_host_rtc_clock(const std::string& clock);

} // namespace kestrel
