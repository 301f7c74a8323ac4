#include "devices/piix/reset_control.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace kestrel {

void ResetControl::read(uint64_t offset, std::span<uint8_t> data) {
    std::fill(data.begin(), data.end(), 0xff);
    if (offset == 0 && !data.empty()) data[0] = value_.load();
}

void ResetControl::write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset != 0 || data.empty()) return;
    uint8_t value = data[0];
    value_ = value & (SYS_RST | FULL_RST);
    if (!(value & RST_CPU)) return;
    spdlog::debug("guest reset through port 0xcf9 (value {:#x})", value);
    machine_.request_reset(ShutdownCause::GuestReset);
}

} // namespace kestrel
