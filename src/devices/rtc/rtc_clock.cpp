#include "devices/rtc/rtc_clock.h"

#include <ctime>

namespace kestrel {

namespace {

int64_t read_clock(clockid_t id) {
    timespec ts{};
    clock_gettime(id, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class RealtimeClock final : public RtcClock {
public:
    int64_t now_ns() const override { return read_clock(CLOCK_REALTIME); }
};

class SteadyClock final : public RtcClock {
public:
    SteadyClock() : base_(read_clock(CLOCK_REALTIME) - read_clock(CLOCK_MONOTONIC)) {}
    int64_t now_ns() const override { return base_ + read_clock(CLOCK_MONOTONIC); }

private:
    int64_t base_;
};

} // namespace

std::shared_ptr<RtcClock> make_host_rtc_clock(const std::string& clock) {
    if (clock == "rt" || clock == "vm") return std::make_shared<SteadyClock>();
    return std::make_shared<RealtimeClock>();
}

} // namespace kestrel
