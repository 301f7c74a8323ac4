#pragma once
// What the VGA renderer remembers between frames (not guest state): the
// last mode and its geometry, the palette as pixels, the characters on the
// screen, the cursor and its blink phase.
#include "devices/vga/vga_core.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

namespace kestrel {

struct VgaCore::RenderCache {
    using Clock = std::chrono::steady_clock;
    enum class Mode { None, Blank, Text, Graphics };
    static constexpr int kMaxTextCells = 160 * 100;  // QEMU's CH_ATTR_SIZE
    // 16 blink states per frame at 60 Hz: the cursor toggles every 266 ms.
    static constexpr int kCursorHalfPeriodMs = 1000 * 2 * 16 / 60 / 2;

    Mode mode = Mode::None;
    uint32_t line_offset = ~0u, start_addr = ~0u, line_compare = ~0u;
    std::array<uint32_t, 256> palette{};
    // Text.
    std::array<uint32_t, 2> font_offsets{~0u, ~0u};
    int text_width = -1, text_height = -1, cell_width = -1, cell_height = -1;
    // Empty until the first text frame after a reset, which fills it (a
    // reset then costs no 64 KiB; the device fuzzers reset a lot).
    std::vector<uint32_t> cells;
    uint32_t cursor_offset = ~0u;
    uint8_t cursor_start = 0, cursor_end = 0;
    Clock::time_point blink_deadline{};
    bool cursor_phase = false;
    bool cursor_drawn_phase = false;  // the phase the cursor's cell shows now
    bool cursor_enabled = false;
    // Graphics.
    int shift_control = -1, double_scan = -1;
    int width = -1, height = -1;
    unsigned depth = ~0u;
    bool big_endian = false;
    bool shared = false;  // drawn as QEMU draws a shared surface
};

namespace vga {

// A 6-bit DAC value as 8 bits, as QEMU scales it.
inline uint32_t c6_to_8(uint32_t v) {
    v &= 0x3f;
    uint32_t b = v & 1;
    return (v << 2) | (b << 1) | b;
}
inline uint32_t rgb(uint32_t r, uint32_t g, uint32_t b) { return (r << 16) | (g << 8) | b; }

} // namespace vga
} // namespace kestrel
