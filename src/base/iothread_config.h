#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace kestrel {

constexpr int64_t kIothreadPollMaxNsDefault = 32768;  // QEMU's IOTHREAD_POLL_MAX_NS_DEFAULT

// One -object iothread.
struct IothreadConfig {
    std::string id;
    // The properties given (QEMU's defaults otherwise).
    std::optional<int64_t> poll_max_ns, poll_grow, poll_shrink;
    std::optional<int64_t> aio_max_batch, thread_pool_min, thread_pool_max;
};

} // namespace kestrel
