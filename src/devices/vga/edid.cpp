#include "devices/vga/edid.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace kestrel {

namespace {

struct Timing {
    unsigned width, height, h_blank, h_front, h_sync, v_blank, v_front, v_sync;
    uint64_t clock_hz;
};

// Reduced-blanking timings: 160 pixels of horizontal blank, at least 460
// microseconds of vertical blank.
Timing reduced_blanking(unsigned width, unsigned height, unsigned refresh_mhz) {
    double hz = refresh_mhz / 1000.0;
    unsigned v_total = unsigned(std::ceil(height / (1.0 - 0.00046 * hz)));
    v_total = std::max(v_total, height + 3 + 6 + 6);
    Timing t{width, height, 160, 48, 32, v_total - height, 3, 6, 0};
    t.clock_hz = uint64_t(double(width + t.h_blank) * v_total * hz);
    return t;
}

void detailed_timing(uint8_t* d, const Timing& t, unsigned width_mm, unsigned height_mm) {
    unsigned clock = unsigned(std::min<uint64_t>(t.clock_hz / 10000, 0xffff));
    d[0] = uint8_t(clock), d[1] = uint8_t(clock >> 8);
    d[2] = uint8_t(t.width), d[3] = uint8_t(t.h_blank);
    d[4] = uint8_t(((t.width >> 8) & 0xf) << 4 | ((t.h_blank >> 8) & 0xf));
    d[5] = uint8_t(t.height), d[6] = uint8_t(t.v_blank);
    d[7] = uint8_t(((t.height >> 8) & 0xf) << 4 | ((t.v_blank >> 8) & 0xf));
    d[8] = uint8_t(t.h_front), d[9] = uint8_t(t.h_sync);
    d[10] = uint8_t((t.v_front & 0xf) << 4 | (t.v_sync & 0xf));
    d[11] = uint8_t(((t.h_front >> 8) & 3) << 6 | ((t.h_sync >> 8) & 3) << 4 | ((t.v_front >> 4) & 3) << 2 |
                    ((t.v_sync >> 4) & 3));
    d[12] = uint8_t(width_mm), d[13] = uint8_t(height_mm);
    d[14] = uint8_t(((width_mm >> 8) & 0xf) << 4 | ((height_mm >> 8) & 0xf));
    d[17] = 0x18 | 0x04 | 0x02;  // digital separate sync, both polarities positive
}

void text_descriptor(uint8_t* d, uint8_t tag, const char* text) {
    d[3] = tag;
    size_t n = std::min<size_t>(std::strlen(text), 13);
    std::memcpy(d + 5, text, n);
    if (n < 13) {
        d[5 + n] = '\n';
        for (size_t i = n + 1; i < 13; ++i) d[5 + i] = ' ';
    }
}

// Chromaticity coordinates as 10-bit binary fractions: sRGB primaries.
void chromaticity(uint8_t* c) {
    // sRGB's red, green, blue and white points (x, y) in 1/10000, as
    // 10-bit fractions of 1024, rounded to nearest.
    const unsigned xy[8] = {6400, 3300, 3000, 6000, 1500, 600, 3127, 3290};
    unsigned v[8];
    for (int i = 0; i < 8; ++i) v[i] = ((xy[i] * 1024 + 5000) / 10000) & 0x3ff;
    c[0] = uint8_t((v[0] & 3) << 6 | (v[1] & 3) << 4 | (v[2] & 3) << 2 | (v[3] & 3));
    c[1] = uint8_t((v[4] & 3) << 6 | (v[5] & 3) << 4 | (v[6] & 3) << 2 | (v[7] & 3));
    for (int i = 0; i < 8; ++i) c[2 + i] = uint8_t(v[i] >> 2);
}

void standard_timings(uint8_t* s, unsigned max_w, unsigned max_h) {
    struct Mode {
        unsigned w, h, aspect;  // 0 16:10, 1 4:3, 2 5:4, 3 16:9
    };
    static constexpr Mode kModes[] = {{1920, 1080, 3}, {1600, 1200, 1}, {1680, 1050, 0}, {1280, 1024, 2},
                                      {1440, 900, 0},  {1280, 800, 0},  {1280, 720, 3},  {1152, 864, 1}};
    for (int i = 0; i < 8; ++i) s[2 * i] = s[2 * i + 1] = 0x01;
    int n = 0;
    for (const Mode& m : kModes) {
        if (m.w > max_w || m.h > max_h || n == 8) continue;
        s[2 * n] = uint8_t(m.w / 8 - 31);
        s[2 * n + 1] = uint8_t(m.aspect << 6 | 0);  // 60 Hz
        ++n;
    }
}

} // namespace

std::array<uint8_t, 128> make_edid(const EdidInfo& info) {
    std::array<uint8_t, 128> e{};
    unsigned width = std::clamp(info.preferred_width, 64u, 4095u);
    unsigned height = std::clamp(info.preferred_height, 64u, 4095u);
    // The maximum only feeds the standard timings and the range limits' clock; an
    // absurd one (from -device VGA,xmax=) is held to what those can say.
    unsigned max_w = std::clamp(info.max_width, width, 16384u), max_h = std::clamp(info.max_height, height, 16384u);
    unsigned refresh = info.refresh_mhz ? std::clamp(info.refresh_mhz, 10000u, 240000u) : 75000u;
    const uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    std::memcpy(e.data(), header, 8);
    uint16_t vendor = uint16_t(('R' - '@') << 10 | ('H' - '@') << 5 | ('T' - '@'));
    e[8] = uint8_t(vendor >> 8), e[9] = uint8_t(vendor);
    e[10] = 0x34, e[11] = 0x12;     // product 0x1234
    e[16] = 42, e[17] = 2014 - 1990;  // week, year of manufacture
    e[18] = 1, e[19] = 4;           // EDID 1.4
    e[20] = 0xa5;                   // digital, 8 bits per colour, DisplayPort
    unsigned width_mm = width * 254 / 960, height_mm = height * 254 / 960;  // 96 dpi
    e[21] = uint8_t(std::max(1u, width_mm / 10)), e[22] = uint8_t(std::max(1u, height_mm / 10));
    e[23] = 120;                    // gamma 2.2
    e[24] = 0x06;                   // sRGB, preferred timing is native
    chromaticity(&e[25]);
    e[35] = 0x21, e[36] = 0x08;     // 640x480, 800x600, 1024x768 at 60 Hz
    standard_timings(&e[38], max_w, max_h);
    Timing t = reduced_blanking(width, height, refresh);
    detailed_timing(&e[54], t, width_mm, height_mm);
    uint8_t* range = &e[72];
    range[3] = 0xfd;
    range[5] = 50, range[6] = 125;  // vertical Hz
    range[7] = 30, range[8] = 160;  // horizontal kHz
    range[9] = uint8_t(std::clamp<uint64_t>(reduced_blanking(max_w, max_h, refresh).clock_hz / 10000000 + 1, 1, 255));
    range[11] = 0x0a;
    for (int i = 12; i < 18; ++i) range[i] = ' ';
    text_descriptor(&e[90], 0xfc, "QEMU Monitor");
    text_descriptor(&e[108], 0xff, "0");
    uint8_t sum = 0;
    for (int i = 0; i < 127; ++i) sum = uint8_t(sum + e[i]);
    e[127] = uint8_t(0x100 - sum);
    return e;
}

} // namespace kestrel
