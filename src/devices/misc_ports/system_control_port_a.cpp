#include "devices/misc_ports/system_control_port_a.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace kestrel {

void SystemControlPortA::read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(lock_);
    std::fill(data.begin(), data.end(), 0xff);
    if (offset == 0 && !data.empty()) data[0] = value_;
}

void SystemControlPortA::write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset != 0 || data.empty()) return;
    bool reset_requested;
    {
        std::lock_guard guard(lock_);
        uint8_t old = value_;
        value_ = data[0];
        reset_requested = (value_ & kFastReset) && !(old & kFastReset);
    }
    if (!reset_requested) return;
    spdlog::debug("guest reset through port 0x92");
    control_.request_reset(ShutdownCause::GuestReset);
}

void SystemControlPortA::reset() {
    std::lock_guard guard(lock_);
    value_ = kA20;  // the reset bit reads 0 again after the reset it caused
}

bool SystemControlPortA::a20_enabled() const {
    std::lock_guard guard(lock_);
    return value_ & kA20;
}

} // namespace kestrel
