// Graphics modes: CGA 4-colour, planar 16-colour, chain-4 256-colour and
// VBE/Cirrus packed 8/15/16/24/32 bpp. A line is drawn again when its VRAM
// pages were written (by the device or through a dirty-logged KVM slot),
// on a full update, or where a hardware cursor lies over it.
#include "devices/vga/vga_render.h"

#include <cstring>

namespace kestrel {

using namespace vga;

namespace {

enum LineKind { LINE2, LINE2D2, LINE4, LINE4D2, LINE8D2, LINE8, LINE15, LINE16, LINE16_PIXMAN, LINE24, LINE32 };

uint32_t plane_mask(uint8_t enable) {
    uint32_t v = 0;
    for (unsigned p = 0; p < 4; ++p)
        if (enable & (1u << p)) v |= 0xffu << (8 * p);
    return v;
}

} // namespace

void VgaCore::draw_graphics_line(uint32_t* d, uint64_t addr, int width, int kind) const {
    const auto& pal = cache_->palette;
    bool be = s_.big_endian_fb;
    auto u16 = [&](uint64_t a) {
        uint16_t v = uint16_t(vram_byte(a) | (vram_byte(a + 1) << 8));
        return be ? uint16_t((v >> 8) | (v << 8)) : v;
    };
    switch (kind) {
    case LINE2:
    case LINE2D2: {  // CGA: 2 bits a pixel, even bytes in plane 0, odd in plane 1
        uint32_t mask = plane_mask(s_.ar[AR_PLANE_ENABLE] & 0xf);
        int rep = kind == LINE2D2 ? 2 : 1;
        for (int x = 0; x + 8 * rep <= width; x += 8 * rep, addr += 4) {
            uint32_t data = vram_dword(addr) & mask;
            for (int half = 0; half < 2; ++half) {
                uint8_t lo = uint8_t(data >> (8 * half)), hi = uint8_t(data >> (8 * (half + 2)));
                for (int p = 0; p < 4; ++p) {
                    unsigned shift = 6 - 2 * p;
                    unsigned v = ((lo >> shift) & 3) | (((hi >> shift) & 3) << 2);
                    for (int r = 0; r < rep; ++r) *d++ = pal[v];
                }
            }
        }
        break;
    }
    case LINE4:
    case LINE4D2: {  // planar: bit 7-x of each plane makes pixel x
        uint32_t mask = plane_mask(s_.ar[AR_PLANE_ENABLE] & 0xf);
        int rep = kind == LINE4D2 ? 2 : 1;
        for (int x = 0; x + 8 * rep <= width; x += 8 * rep, addr += 4) {
            uint32_t data = vram_dword(addr) & mask;
            for (int bit = 7; bit >= 0; --bit) {
                unsigned v = ((data >> bit) & 1) | (((data >> (8 + bit)) & 1) << 1) |
                             (((data >> (16 + bit)) & 1) << 2) | (((data >> (24 + bit)) & 1) << 3);
                for (int r = 0; r < rep; ++r) *d++ = pal[v];
            }
        }
        break;
    }
    case LINE8D2:
        for (int x = 0; x + 2 <= width; x += 2, ++addr) d[x] = d[x + 1] = pal[vram_byte(addr)];
        break;
    case LINE8:
        for (int x = 0; x < width; ++x) d[x] = pal[vram_byte(addr + x)];
        break;
    case LINE15:
        for (int x = 0; x < width; ++x, addr += 2) {
            uint16_t v = u16(addr);
            d[x] = rgb((v >> 7) & 0xf8, (v >> 2) & 0xf8, (v << 3) & 0xf8);
        }
        break;
    case LINE16:
        for (int x = 0; x < width; ++x, addr += 2) {
            uint16_t v = u16(addr);
            d[x] = rgb((v >> 8) & 0xf8, (v >> 3) & 0xfc, (v << 3) & 0xf8);
        }
        break;
    case LINE16_PIXMAN:  // 5 and 6 bits widened by repeating their top bits
        for (int x = 0; x < width; ++x, addr += 2) {
            uint16_t v = u16(addr);
            uint32_t r = (v >> 11) & 0x1f, g = (v >> 5) & 0x3f, b = v & 0x1f;
            d[x] = rgb(r << 3 | r >> 2, g << 2 | g >> 4, b << 3 | b >> 2);
        }
        break;
    case LINE24:
        for (int x = 0; x < width; ++x, addr += 3)
            d[x] = rgb(vram_byte(addr + 2), vram_byte(addr + 1), vram_byte(addr));
        break;
    case LINE32:
        for (int x = 0; x < width; ++x, addr += 4) {
            if (be)
                d[x] = rgb(vram_byte(addr + 1), vram_byte(addr + 2), vram_byte(addr + 3));
            else
                d[x] = rgb(vram_byte(addr + 2), vram_byte(addr + 1), vram_byte(addr));
        }
        break;
    }
}

// QEMU shows 16, 24 and 32 bpp frames that fit in VRAM as VRAM itself (a
// shared surface): plain line_offset steps, and 16-bit pixels widened the
// way pixman converts them for screendump and VNC. Matching it keeps the
// pictures identical to QEMU's.
bool VgaCore::shares_vram_locked(int width, int height, unsigned depth) const {
    if (!(depth == 32 || depth == 24 || (depth == 16 && !s_.big_endian_fb)) || force_shadow_locked()) return false;
    const RenderCache& c = *cache_;
    uint64_t end = uint64_t(c.start_addr) * 4 + uint64_t(c.line_offset) * uint64_t(height) +
                   uint64_t(width) * depth / 8 - c.line_offset;
    return end <= vram_size_;
}

void VgaCore::render_graphics_locked(Surface& surface, bool full, std::vector<Rect>& damage) {
    RenderCache& c = *cache_;
    full |= update_basic_params_locked();
    int width, height;
    resolution_locked(width, height);
    unsigned depth = bpp_locked();
    int shift_control = (s_.gr[GR_MODE] >> 5) & 3;
    int double_scan = s_.cr[CR_MAX_SCAN] >> 7;
    int multi_scan = shift_control != 1 ? (((s_.cr[CR_MAX_SCAN] & 0x1f) + 1) << double_scan) - 1 : double_scan;
    if (shift_control != c.shift_control || double_scan != c.double_scan) {
        c.shift_control = shift_control;
        c.double_scan = double_scan;
        full = true;
    }
    int disp_width = width;
    bool double_width = sr_effective(SR_CLOCK_MODE) & SR01_DOUBLE_WIDTH;
    if (shift_control <= 1 && double_width) disp_width <<= 1;

    int kind, bits;
    if (shift_control == 0) {
        full |= update_palette16_locked();
        kind = double_width ? LINE4D2 : LINE4, bits = 4;
    } else if (shift_control == 1) {
        full |= update_palette16_locked();
        kind = double_width ? LINE2D2 : LINE2, bits = 4;
    } else {
        switch (depth) {
        case 8: full |= update_palette256_locked(); kind = LINE8, bits = 8; break;
        case 15: kind = LINE15, bits = 16; break;
        case 16: kind = LINE16, bits = 16; break;
        case 24: kind = LINE24, bits = 24; break;
        case 32: kind = LINE32, bits = 32; break;
        default: full |= update_palette256_locked(); kind = LINE8D2, bits = 4; break;
        }
    }
    bool shared = shares_vram_locked(width, height, depth);
    if (shared) kind = depth == 16 ? LINE16_PIXMAN : depth == 24 ? LINE24 : LINE32, bits = int(depth);
    disp_width = std::clamp(disp_width, 1, Surface::kMaxWidth);
    height = std::clamp(height, 1, Surface::kMaxHeight);
    if (disp_width != c.width || height != c.height || depth != c.depth || s_.big_endian_fb != c.big_endian ||
        shared != c.shared || surface.width() != disp_width || surface.height() != height) {
        surface.resize(disp_width, height);
        c.width = disp_width, c.height = height, c.depth = depth, c.big_endian = s_.big_endian_fb;
        c.shared = shared;
        full = true;
    }

    uint64_t line_bytes = (uint64_t(width) * bits + 7) / 8;
    uint64_t addr1 = uint64_t(c.start_addr) * 4;
    int y_start = -1, y1 = 0, multi_run = multi_scan;
    for (int y = 0; y < height; ++y) {
        uint64_t addr = addr1;
        if (shared) {
            addr = uint64_t(c.start_addr) * 4 + uint64_t(y) * c.line_offset;
        } else {
            if (!(s_.cr[CR_MODE] & 1)) {  // CGA: odd lines from the second bank
                unsigned shift = 14 + ((s_.cr[CR_MODE] >> 6) & 1);
                addr = (addr & ~(uint64_t(1) << shift)) | (uint64_t(y1 & 1) << shift);
            }
            if (!(s_.cr[CR_MODE] & 2)) addr = (addr & ~uint64_t(0x8000)) | (uint64_t(y1 & 2) << 14);
        }
        bool update = full || range_dirty(addr, line_bytes) || cursor_on_line(y);
        if (update) {
            if (y_start < 0) y_start = y;
            uint32_t* d = surface.row(y);
            draw_graphics_line(d, addr, disp_width, kind);
            draw_cursor_line(d, y, disp_width);
        } else if (y_start >= 0) {
            damage.push_back({0, y_start, disp_width, y - y_start});
            y_start = -1;
        }
        if (!multi_run) {
            int mask = (s_.cr[CR_MODE] & 3) ^ 3;
            if ((y1 & mask) == mask) addr1 += c.line_offset;
            ++y1;
            multi_run = multi_scan;
        } else {
            --multi_run;
        }
        if (uint32_t(y) == c.line_compare) addr1 = 0;
    }
    if (y_start >= 0) damage.push_back({0, y_start, disp_width, height - y_start});
    frame_done();
}

} // namespace kestrel
