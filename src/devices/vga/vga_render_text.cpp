// Text modes: each cell's character (plane 0) and attribute (plane 1)
// drawn with the font in plane 2, 8, 9 or 16 pixels wide, and the cursor.
// Only cells that changed since the last frame are drawn again.
#include "devices/vga/vga_render.h"

namespace kestrel {

using namespace vga;

namespace {

// One character cell: `font` points at its first line in VRAM (plane 2
// bytes, 4 apart). A 9-dot cell repeats the 8th pixel for line-drawing
// characters (dup9), else shows the background.
void draw_glyph(uint32_t* d, int stride, const uint8_t* vram, uint64_t mask, uint64_t font, int lines,
                uint32_t fg, uint32_t bg, int cell_width, bool dup9) {
    for (int line = 0; line < lines; ++line, d += stride) {
        uint8_t bits = vram[(font + uint64_t(line) * 4) & mask];
        if (cell_width == 16) {
            for (int x = 0; x < 8; ++x) d[2 * x] = d[2 * x + 1] = (bits & (0x80 >> x)) ? fg : bg;
            continue;
        }
        for (int x = 0; x < 8; ++x) d[x] = (bits & (0x80 >> x)) ? fg : bg;
        if (cell_width == 9) d[8] = dup9 && (bits & 1) ? fg : bg;
    }
}

// Cursor lines are solid foreground.
void draw_block(uint32_t* d, int stride, int lines, int cell_width, uint32_t fg) {
    for (int line = 0; line < lines; ++line, d += stride)
        for (int x = 0; x < cell_width; ++x) d[x] = fg;
}

} // namespace

void VgaCore::render_text_locked(Surface& surface, bool full, std::vector<Rect>& damage) {
    RenderCache& c = *cache_;
    uint8_t map = sr_effective(SR_CHARACTER_MAP);
    std::array<uint32_t, 2> fonts{(((map >> 4) & 1) | ((map << 1) & 6)) * 8192u * 4u + 2u,
                                  (((map >> 5) & 1) | ((map >> 1) & 6)) * 8192u * 4u + 2u};
    if (fonts != c.font_offsets) {
        c.font_offsets = fonts;
        full = true;
    }
    // A write to plane 2 may have changed the font.
    if ((s_.plane_updated & 4) || chain4_slot_) {
        s_.plane_updated = 0;
        full = true;
    }
    full |= update_basic_params_locked();

    int cell_height = (s_.cr[CR_MAX_SCAN] & 0x1f) + 1;
    int cell_width = (sr_effective(SR_CLOCK_MODE) & SR01_8DOTS) ? 8 : 9;
    if (sr_effective(SR_CLOCK_MODE) & SR01_DOUBLE_WIDTH) cell_width = 16;
    int width = s_.cr[CR_H_DISP] + 1;
    int height;
    if (s_.cr[CR_V_TOTAL] == 100) {
        height = 100;  // QEMU's CGA 160x100x16 case
    } else {
        height = s_.cr[CR_V_DISP_END] | ((s_.cr[CR_OVERFLOW] & 0x02) << 7) | ((s_.cr[CR_OVERFLOW] & 0x40) << 3);
        height = (height + 1) / cell_height;
    }
    if (height * width <= 1 || height * width > RenderCache::kMaxTextCells) return;
    if (width != c.text_width || height != c.text_height || cell_width != c.cell_width ||
        cell_height != c.cell_height || surface.width() != width * cell_width ||
        surface.height() != height * cell_height) {
        surface.resize(width * cell_width, height * cell_height);
        c.text_width = width, c.text_height = height, c.cell_width = cell_width, c.cell_height = cell_height;
        full = true;
    }
    full |= update_palette16_locked();
    if (c.cells.empty()) {
        c.cells.assign(RenderCache::kMaxTextCells, ~0u);
        full = true;
    }

    uint32_t cursor_offset = ((uint32_t(s_.cr[CR_CURSOR_HI]) << 8) | s_.cr[CR_CURSOR_LO]) - c.start_addr;
    // A moved, reshaped, hidden or shown cursor: both cells drawn again.
    if (cursor_offset != c.cursor_offset || s_.cr[CR_CURSOR_START] != c.cursor_start ||
        s_.cr[CR_CURSOR_END] != c.cursor_end) {
        if (c.cursor_offset < uint32_t(RenderCache::kMaxTextCells)) c.cells[c.cursor_offset] = ~0u;
        if (cursor_offset < uint32_t(RenderCache::kMaxTextCells)) c.cells[cursor_offset] = ~0u;
        c.cursor_offset = cursor_offset;
        c.cursor_start = s_.cr[CR_CURSOR_START];
        c.cursor_end = s_.cr[CR_CURSOR_END];
    }
    uint64_t cursor_addr = (uint64_t(c.start_addr) + cursor_offset) * 4;
    auto now = RenderCache::Clock::now();
    if (now >= c.blink_deadline) {
        c.blink_deadline = now + std::chrono::milliseconds(RenderCache::kCursorHalfPeriodMs);
        c.cursor_phase = !c.cursor_phase;
    }
    c.cursor_enabled = !(s_.cr[CR_CURSOR_START] & 0x20);
    // The cursor's cell is drawn again only when the blink turned; drawing
    // it every frame counted as a change and kept an idle screen polled
    // every 30 ms (QEMU redraws it every frame).
    const bool blink_turned = c.cursor_phase != c.cursor_drawn_phase;
    c.cursor_drawn_phase = c.cursor_phase;

    int stride = surface.width();
    uint64_t offset = uint64_t(c.start_addr) * 4;
    int line = 0;
    size_t cell_index = 0;
    for (int cy = 0; cy < height; ++cy) {
        int cx_min = width, cx_max = -1;
        uint32_t* row = surface.row(cy * cell_height);
        for (int cx = 0; cx < width; ++cx, ++cell_index) {
            uint64_t src = offset + uint64_t(cx) * 4;
            uint32_t ch_attr = vram_byte(src) | (uint32_t(vram_byte(src + 1)) << 8);
            bool at_cursor = src == cursor_addr && c.cursor_enabled;
            if (!full && ch_attr == c.cells[cell_index] && !(at_cursor && blink_turned)) continue;
            cx_min = std::min(cx_min, cx);
            cx_max = cx;
            c.cells[cell_index] = ch_attr;
            unsigned ch = ch_attr & 0xff, attr = ch_attr >> 8;
            uint64_t font = c.font_offsets[(attr >> 3) & 1] + 32u * 4u * ch;
            uint32_t bg = c.palette[attr >> 4], fg = c.palette[attr & 0x0f];
            bool dup9 = ch >= 0xb0 && ch <= 0xdf && (s_.ar[AR_MODE] & 0x04);
            uint32_t* d = row + cx * cell_width;
            draw_glyph(d, stride, vram_, vram_mask_, font, cell_height, fg, bg, cell_width, dup9);
            if (!at_cursor || !c.cursor_phase) continue;
            int first = s_.cr[CR_CURSOR_START] & 0x1f;
            int last = std::min<int>(s_.cr[CR_CURSOR_END] & 0x1f, cell_height - 1);
            if (last >= first && first < cell_height)
                draw_block(d + first * stride, stride, last - first + 1, cell_width, fg);
        }
        if (cx_max >= 0)
            damage.push_back({cx_min * cell_width, cy * cell_height, (cx_max - cx_min + 1) * cell_width, cell_height});
        int next_line = line + cell_height;
        offset += c.line_offset;
        if (uint32_t(line) < c.line_compare && uint32_t(next_line) >= c.line_compare) offset = 0;
        line = next_line;
    }
}

} // namespace kestrel
