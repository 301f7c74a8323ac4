// The CL-GD5446 BitBLT engine as QEMU models it: the 16 raster operations
// on video-to-video copies (forward and backward, with 8/16-bit
// transparency), 8x8 pattern fills, colour expansion of monochrome
// sources and patterns (with transparency), solid fills, and sources fed
// by the CPU through the blit aperture (system-to-video).
//
// Safety: blt_unsafe() refuses any blit whose destination (or video
// source) would reach outside VRAM or whose line is longer than the source
// buffer, before a byte is touched; every address is also masked into
// VRAM as it is used.
#include "devices/vga/cirrus/cirrus_vga.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace kestrel {

namespace {

constexpr uint8_t MODE_BACKWARDS = 0x01, MODE_MEMSYSDEST = 0x02, MODE_MEMSYSSRC = 0x04;
constexpr uint8_t MODE_TRANSPARENT = 0x08, MODE_PATTERN = 0x40, MODE_EXPAND = 0x80;
constexpr uint8_t EXT_SOLIDFILL = 0x04, EXT_EXPAND_INVERT = 0x02, EXT_DWORD_GRANULARITY = 0x01;
constexpr uint8_t BLT_BUSY = 0x01, BLT_START = 0x02, BLT_RESET = 0x04, BLT_FIFO = 0x10;
constexpr uint8_t kRopSrc = 0x0d;

// The 16 raster operations the 5446 decodes (others do nothing), on bytes.
uint8_t rop(uint8_t code, uint8_t d, uint8_t s) {
    switch (code) {
    case 0x00: return 0;
    case 0x05: return s & d;
    case 0x09: return s & uint8_t(~d);
    case 0x0b: return uint8_t(~d);
    case 0x0d: return s;
    case 0x0e: return 0xff;
    case 0x50: return uint8_t(~s) & d;
    case 0x59: return s ^ d;
    case 0x6d: return s | d;
    case 0x90: return uint8_t(~s | ~d);
    case 0x95: return uint8_t(~(s ^ d));
    case 0xad: return s | uint8_t(~d);
    case 0xd0: return uint8_t(~s);
    case 0xd6: return uint8_t(~s) | d;
    case 0xda: return uint8_t(~s & ~d);
    default: return d;  // NOP (0x06) and undefined codes
    }
}

} // namespace

uint8_t CirrusVga::blt_src(uint32_t addr, bool from_buf) const {
    if (from_buf) return c_.blt.buf[addr & (cirrus::kBltBufSize - 1)];
    return vram()[addr & addr_mask_];
}

void CirrusVga::blt_control(uint8_t value) {
    uint8_t old = s_.gr[0x31];
    s_.gr[0x31] = value;
    if ((old & BLT_RESET) && !(value & BLT_RESET))
        blt_reset();
    else if (!(old & BLT_START) && (value & BLT_START))
        blt_start();
}

void CirrusVga::blt_reset() {
    s_.gr[0x31] &= uint8_t(~(BLT_START | BLT_BUSY | BLT_FIFO));
    bool was_set_up = c_.blt.buf_pos != 0 || c_.blt.buf_end != 0;
    c_.blt.buf_pos = c_.blt.buf_end = 0;
    c_.blt.src_counter = 0;
    if (was_set_up) memory_access_changed();
}

// A region of `lines` lines of `width` bytes from `addr`, `pitch` apart
// (negative: upwards, addr at its last byte), lies inside VRAM.
static bool region_unsafe(uint64_t vram, int width, int lines, int pitch, uint32_t addr) {
    if (pitch == 0) return true;
    if (pitch < 0) {
        int64_t min = int64_t(addr) + int64_t(lines - 1) * pitch - width;
        return min < -1 || addr >= vram;
    }
    int64_t max = int64_t(addr) + int64_t(lines - 1) * pitch + width;
    return max > int64_t(vram);
}

bool CirrusVga::blt_unsafe(bool dst_only) const {
    const CirrusBltState& b = c_.blt;
    if (b.width <= 0 || b.height <= 0 || b.width > int(cirrus::kBltBufSize)) return true;
    uint64_t size = std::min<uint64_t>(vram_size(), uint64_t(addr_mask_) + 1);
    if (region_unsafe(size, b.width, b.height, b.dst_pitch, b.dst)) return true;
    return !dst_only && region_unsafe(size, b.width, b.height, b.src_pitch, b.src);
}

void CirrusVga::blt_dirty(uint32_t dst, int pitch, int bytes, int lines) {
    int64_t at = dst;
    if (pitch < 0) at -= bytes - 1;
    for (int y = 0; y < lines; ++y, at += pitch) mark_dirty(uint64_t(at) & addr_mask_, uint64_t(bytes));
}

// The blit's pixels, each put with the ROP. `from_buf`: the source is the
// CPU's bytes in buf (system-to-video), else VRAM.
void CirrusVga::blt_run(uint32_t dst, uint32_t src, int dst_pitch, int src_pitch, int width, int height,
                        bool from_buf) {
    CirrusBltState& b = c_.blt;
    uint8_t* v = vram();
    const int bpp = b.pixel_width;
    auto put = [&](uint32_t at, uint32_t colour) {
        for (int i = 0; i < bpp; ++i) {
            uint32_t a = (at + uint32_t(i)) & addr_mask_;
            v[a] = rop(b.rop, v[a], uint8_t(colour >> (8 * i)));
        }
    };
    // Pixels to skip on the left (GR2F): in bytes at 24 bpp for the
    // pattern fill and the transparent expansions, in pixels otherwise.
    uint8_t mask = s_.gr[0x2f];
    bool byte_skip = bpp == 3 && (b.op == CirrusBltState::Op::PatternFill ||
                                  b.op == CirrusBltState::Op::ColorExpandTransparent ||
                                  b.op == CirrusBltState::Op::PatternExpandTransparent);
    int skip = byte_skip ? (mask & 0x1f) : (mask & 7) * bpp;  // destination bytes
    int src_skip = byte_skip ? skip / 3 : mask & 7;           // source bits
    switch (b.op) {
    case CirrusBltState::Op::Copy:
    case CirrusBltState::Op::CopyTransparent: {
        int step = b.backward ? -1 : 1;
        uint16_t key = uint16_t(s_.gr[0x34] | (s_.gr[0x35] << 8));
        bool plain = b.op == CirrusBltState::Op::Copy && b.rop == kRopSrc && !from_buf;
        for (int y = 0; y < height; ++y) {
            uint32_t d = dst + uint32_t(y * dst_pitch), s = src + uint32_t(y * src_pitch);
            if (plain && blt_copy_line_fast(d, s, width, b.backward)) continue;
            for (int x = 0; x < width; x += (b.op == CirrusBltState::Op::Copy ? 1 : bpp)) {
                uint32_t da = d + uint32_t(x * step), sa = s + uint32_t(x * step);
                if (b.op == CirrusBltState::Op::Copy) {
                    v[da & addr_mask_] = rop(b.rop, v[da & addr_mask_], blt_src(sa, from_buf));
                    continue;
                }
                // Transparency compares the result with the key colour.
                uint8_t r0 = rop(b.rop, v[da & addr_mask_], blt_src(sa, from_buf));
                if (bpp == 1) {
                    if (r0 != uint8_t(key)) v[da & addr_mask_] = r0;
                    continue;
                }
                uint32_t da1 = da + uint32_t(step), sa1 = sa + uint32_t(step);
                uint8_t r1 = rop(b.rop, v[da1 & addr_mask_], blt_src(sa1, from_buf));
                uint16_t r = b.backward ? uint16_t(r1 | r0 << 8) : uint16_t(r0 | r1 << 8);
                if (r != key) {
                    v[da & addr_mask_] = r0;
                    v[da1 & addr_mask_] = r1;
                }
            }
        }
        break;
    }
    case CirrusBltState::Op::PatternFill: {  // QEMU's pattern index: bytes, but pixels at 24 bpp
        int pitch = bpp == 1 ? 8 : bpp == 2 ? 16 : 32;
        int row = int(b.src & 7);
        for (int y = 0; y < height; ++y, row = (row + 1) & 7) {
            int px = skip;
            for (int x = skip; x < width; x += bpp) {
                uint32_t pa = src + uint32_t(row * pitch + (bpp == 3 ? px * 3 : px));
                uint32_t colour = 0;
                for (int i = 0; i < bpp; ++i) colour |= uint32_t(blt_src(pa + uint32_t(i), from_buf)) << (8 * i);
                put(dst + uint32_t(y * dst_pitch + x), colour);
                px = bpp == 3 ? (px + 1) & 7 : (px + bpp) & (8 * bpp - 1);
            }
        }
        break;
    }
    case CirrusBltState::Op::ColorExpand:
    case CirrusBltState::Op::ColorExpandTransparent: {
        bool transparent = b.op == CirrusBltState::Op::ColorExpandTransparent;
        uint8_t invert = (transparent && (b.mode_ext & EXT_EXPAND_INVERT)) ? 0xff : 0;
        uint32_t colour_on = (transparent && invert) ? b.bg : b.fg;
        for (int y = 0; y < height; ++y) {
            unsigned bit = 0x80u >> src_skip;
            uint8_t bits = uint8_t(blt_src(src++, from_buf) ^ invert);
            for (int x = skip; x < width; x += bpp, bit >>= 1) {
                if (!(bit & 0xff)) {
                    bit = 0x80;
                    bits = uint8_t(blt_src(src++, from_buf) ^ invert);
                }
                bool on = bits & bit;
                if (transparent && !on) continue;
                put(dst + uint32_t(y * dst_pitch + x), transparent ? colour_on : (on ? b.fg : b.bg));
            }
        }
        break;
    }
    case CirrusBltState::Op::PatternExpand:
    case CirrusBltState::Op::PatternExpandTransparent: {
        bool transparent = b.op == CirrusBltState::Op::PatternExpandTransparent;
        uint8_t invert = (transparent && (b.mode_ext & EXT_EXPAND_INVERT)) ? 0xff : 0;
        uint32_t colour_on = (transparent && invert) ? b.bg : b.fg;
        int row = int(b.src & 7);
        for (int y = 0; y < height; ++y, row = (row + 1) & 7) {
            uint8_t bits = uint8_t(blt_src(src + uint32_t(row), from_buf) ^ invert);
            int bitpos = (7 - src_skip) & 7;  // a 24 bpp byte skip may pass a whole source byte
            for (int x = skip; x < width; x += bpp, bitpos = (bitpos - 1) & 7) {
                bool on = (bits >> bitpos) & 1;
                if (transparent && !on) continue;
                put(dst + uint32_t(y * dst_pitch + x), transparent ? colour_on : (on ? b.fg : b.bg));
            }
        }
        break;
    }
    }
}

// One line of a SRC copy as memmove, when that is what the byte-by-byte
// copy gives: both ranges inside VRAM, and the destination not ahead of
// the source within the line (there the 5446, as QEMU, repeats bytes).
// False: the caller copies byte by byte.
bool CirrusVga::blt_copy_line_fast(uint32_t dst, uint32_t src, int width, bool backward) {
    int64_t d = dst, s = src;
    if (backward) d -= width - 1, s -= width - 1;  // the lowest bytes
    auto limit = int64_t(std::min<uint64_t>(vram_size(), uint64_t(addr_mask_) + 1));
    if (d < 0 || s < 0 || d + width > limit || s + width > limit) return false;
    bool repeats = backward ? (d < s && s - d < width) : (d > s && d - s < width);
    if (repeats) return false;
    std::memmove(vram() + d, vram() + s, size_t(width));
    return true;
}

// One line of a SRC solid fill inside VRAM: the first pixel, then the
// line doubling it (whole pixels, as the byte loop writes them). False
// (outside): the caller goes byte by byte.
bool CirrusVga::blt_fill_line_fast(uint32_t dst, int width, const std::array<uint8_t, 4>& fg) {
    int bpp = c_.blt.pixel_width;
    width = (width + bpp - 1) / bpp * bpp;
    if (uint64_t(dst) + uint64_t(width) > std::min<uint64_t>(vram_size(), uint64_t(addr_mask_) + 1)) return false;
    uint8_t* line = vram() + dst;
    int done = bpp;
    std::memcpy(line, fg.data(), size_t(done));
    while (done < width) {
        int n = std::min(done, width - done);  // whole pixels: both are multiples of bpp
        std::memcpy(line + done, line, size_t(n));
        done += n;
    }
    return true;
}

void CirrusVga::blt_solid_fill() {
    CirrusBltState& b = c_.blt;
    if (blt_unsafe(true)) return;
    uint8_t* v = vram();
    std::array<uint8_t, 4> fg{};
    for (int i = 0; i < b.pixel_width; ++i) fg[size_t(i)] = uint8_t(b.fg >> (8 * i));
    for (int y = 0; y < b.height; ++y) {
        uint32_t line = b.dst + uint32_t(y * b.dst_pitch);
        if (b.rop == kRopSrc && blt_fill_line_fast(line, b.width, fg)) continue;
        for (int x = 0; x < b.width; x += b.pixel_width)
            for (int i = 0; i < b.pixel_width; ++i) {
                uint32_t a = (line + uint32_t(x + i)) & addr_mask_;
                v[a] = rop(b.rop, v[a], fg[size_t(i)]);
            }
    }
    blt_dirty(b.dst, b.dst_pitch, b.width, b.height);
}

// An 8x8 pattern from VRAM (aligned to its size) or from the CPU.
bool CirrusVga::blt_pattern_copy() {
    CirrusBltState& b = c_.blt;
    bool from_video = b.src_counter == 0;
    if (from_video) {
        unsigned bpp = bpp_locked();
        uint32_t size = bpp == 8 ? 64 : (bpp == 15 || bpp == 16) ? 128 : 256;
        b.src &= ~(size - 1);
        if (uint64_t(b.src) + size > vram_size()) return false;
    }
    if (blt_unsafe(true)) return false;
    blt_run(b.dst, from_video ? b.src : 0, b.dst_pitch, 0, b.width, b.height, !from_video);
    blt_dirty(b.dst, b.dst_pitch, b.width, b.height);
    return true;
}

// The CPU will write the source: the LFB and the window stop being plain
// VRAM so the bytes reach feed_blit().
bool CirrusVga::blt_system_to_video() {
    CirrusBltState& b = c_.blt;
    if (blt_unsafe(true)) return false;
    b.mode &= uint8_t(~MODE_MEMSYSSRC);
    if (b.mode & MODE_PATTERN) {
        b.src_pitch = (b.mode & MODE_EXPAND) ? 8 : 8 * 8 * b.pixel_width;
        b.src_counter = b.src_pitch;
    } else {
        if (b.mode & MODE_EXPAND) {
            int w = b.width / b.pixel_width;
            b.src_pitch = (b.mode_ext & EXT_DWORD_GRANULARITY) ? ((w + 31) >> 5) : ((w + 7) >> 3);
        } else {
            b.src_pitch = (b.width + 3) & ~3;  // lines come 32-bit aligned
        }
        b.src_counter = b.src_pitch * b.height;
    }
    if (b.src_pitch <= 0 || b.src_pitch > int(cirrus::kBltBufSize)) return false;
    b.buf_pos = 0;
    b.buf_end = size_t(b.src_pitch);
    memory_access_changed();
    return true;
}

void CirrusVga::feed_blit(uint8_t byte) {
    CirrusBltState& b = c_.blt;
    b.buf[b.buf_pos++ % cirrus::kBltBufSize] = byte;
    if (b.buf_pos >= b.buf_end) blt_next_line();
}

// A source line is complete: draw it (or the whole pattern), keep any
// extra bytes for the next line.
void CirrusVga::blt_next_line() {
    CirrusBltState& b = c_.blt;
    if (b.src_counter <= 0) return;
    if (b.mode & MODE_PATTERN) {
        blt_pattern_copy();
        blt_reset();
        return;
    }
    do {
        blt_run(b.dst, 0, 0, 0, b.width, 1, true);
        blt_dirty(b.dst, 0, b.width, 1);
        b.dst = uint32_t(int64_t(b.dst) + b.dst_pitch);
        b.src_counter -= b.src_pitch;
        if (b.src_counter <= 0) {
            blt_reset();
            return;
        }
        size_t extra = b.buf_pos - size_t(b.src_pitch);
        std::memmove(b.buf.data(), b.buf.data() + b.src_pitch, extra);
        b.buf_pos = extra;
        b.buf_end = size_t(b.src_pitch);
    } while (b.buf_pos >= b.buf_end);
}

void CirrusVga::blt_start() {
    CirrusBltState& b = c_.blt;
    const auto& g = s_.gr;
    if (!blitter_) {
        blt_reset();
        return;
    }
    s_.gr[0x31] |= BLT_BUSY;
    b.width = (g[0x20] | (g[0x21] << 8)) + 1;
    b.height = (g[0x22] | (g[0x23] << 8)) + 1;
    b.dst_pitch = g[0x24] | (g[0x25] << 8);
    b.src_pitch = g[0x26] | (g[0x27] << 8);
    b.dst = (g[0x28] | (g[0x29] << 8) | (uint32_t(g[0x2a]) << 16)) & addr_mask_;
    b.src = (g[0x2c] | (g[0x2d] << 8) | (uint32_t(g[0x2e]) << 16)) & addr_mask_;
    b.mode = g[0x30];
    b.mode_ext = g[0x33];
    b.rop = g[0x32];
    b.pixel_width = ((b.mode >> 4) & 3) + 1;
    b.mode &= uint8_t(~0x30);
    b.backward = false;
    b.src_counter = 0;
    auto colour = [&](uint8_t low, unsigned first) {
        uint32_t c = low;
        for (int i = 1; i < b.pixel_width; ++i) c |= uint32_t(g[first + 2 * unsigned(i - 1)]) << (8 * i);
        return c;
    };
    b.fg = colour(c_.shadow_gr1, 0x11);
    b.bg = colour(c_.shadow_gr0, 0x10);

    if ((b.mode & (MODE_MEMSYSSRC | MODE_MEMSYSDEST)) == (MODE_MEMSYSSRC | MODE_MEMSYSDEST)) return blt_reset();
    if ((b.mode_ext & EXT_SOLIDFILL) &&
        (b.mode & (MODE_MEMSYSDEST | MODE_TRANSPARENT | MODE_PATTERN | MODE_EXPAND)) == (MODE_PATTERN | MODE_EXPAND)) {
        blt_solid_fill();
        return blt_reset();
    }
    using Op = CirrusBltState::Op;
    bool transparent = b.mode & MODE_TRANSPARENT;
    if ((b.mode & (MODE_EXPAND | MODE_PATTERN)) == MODE_EXPAND) {
        b.op = transparent ? Op::ColorExpandTransparent : Op::ColorExpand;
    } else if (b.mode & MODE_PATTERN) {
        b.op = (b.mode & MODE_EXPAND) ? (transparent ? Op::PatternExpandTransparent : Op::PatternExpand) : Op::PatternFill;
    } else {
        if (transparent && b.pixel_width > 2) return blt_reset();  // only 8 and 16 bpp have a key colour
        b.op = transparent ? Op::CopyTransparent : Op::Copy;
        if (b.mode & MODE_BACKWARDS) {
            b.backward = true;
            b.dst_pitch = -b.dst_pitch;
            b.src_pitch = -b.src_pitch;
        }
    }
    if (b.mode & MODE_MEMSYSSRC) {
        if (!blt_system_to_video()) blt_reset();
        return;
    }
    if (b.mode & MODE_MEMSYSDEST) return blt_reset();  // video to system: the 5446's QEMU model has none
    bool done;
    if (b.mode & MODE_PATTERN) {
        done = blt_pattern_copy();
    } else {
        done = !blt_unsafe(false);
        if (done) {
            blt_run(b.dst, b.src, b.dst_pitch, b.src_pitch, b.width, b.height, false);
            blt_dirty(b.dst, b.dst_pitch, b.width, b.height);
        }
    }
    blt_reset();
    (void)done;
}

} // namespace kestrel
