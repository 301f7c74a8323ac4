#pragma once
// CLOCK_MONOTONIC in nanoseconds: device timers, request timing, slirp.
#include <cstdint>
#include <ctime>

namespace kestrel {

inline uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

} // namespace kestrel
