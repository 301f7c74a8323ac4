#pragma once
// How an MC146818 shows time: each register in BCD or binary (register B's
// DM bit), the hour in 24-hour form or 12-hour form with bit 7 = PM.
#include <cstdint>
#include <optional>

namespace kestrel {

struct RtcFormat {
    bool binary = false;   // register B bit 2 (DM)
    bool hour24 = true;    // register B bit 1
};

inline uint8_t rtc_encode(int value, RtcFormat f) {
    return f.binary ? uint8_t(value) : uint8_t(((value / 10) << 4) | (value % 10));
}

inline int rtc_decode(uint8_t reg, RtcFormat f) {
    return f.binary ? reg : (reg >> 4) * 10 + (reg & 0x0f);
}

inline uint8_t rtc_encode_hour(int hour24, RtcFormat f) {
    if (f.hour24) return rtc_encode(hour24, f);
    int h12 = hour24 % 12 == 0 ? 12 : hour24 % 12;
    return uint8_t(rtc_encode(h12, f) | (hour24 >= 12 ? 0x80 : 0));
}

inline int rtc_decode_hour(uint8_t reg, RtcFormat f) {
    if (f.hour24) return rtc_decode(reg, f);
    int h12 = rtc_decode(reg & 0x7f, f);
    return h12 % 12 + ((reg & 0x80) ? 12 : 0);
}

} // namespace kestrel
