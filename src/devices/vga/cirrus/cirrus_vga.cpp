// The CL-GD5446's registers and memory decoding (QEMU's model: the
// 5446's extended registers, banked and linear access with the address
// translations of GR0B, write modes 4 and 5).
#include "devices/vga/cirrus/cirrus_vga.h"

#include <algorithm>
#include <cstring>

namespace kestrel {

using namespace vga;

namespace {
constexpr uint8_t kSrMask[8] = {0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0xff};
constexpr uint8_t kGrMask[9] = {0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff};
constexpr uint8_t SR12_SHOW = 0x01, SR12_HIDDEN_PEL = 0x02, SR12_LARGE = 0x04;
} // namespace

CirrusVga::CirrusVga(uint64_t vram_size, bool blitter)
    : VgaCore(vram_size), blitter_(blitter), addr_mask_(cirrus::kRealVram - 1) {
    reset();
}

void CirrusVga::reset() {
    VgaCore::reset();
    std::lock_guard guard(lock_);
    c_ = CirrusState{};
    s_.sr[0x06] = 0x0f;  // extensions locked
    s_.sr[0x1f] = 0x2d;  // MCLK
    s_.gr[0x18] = 0x0f;
    s_.sr[0x0f] = 0x98;  // 4 MiB, 64-bit
    s_.sr[0x17] = 0x20;  // PCI
    s_.sr[0x15] = 0x04;
    s_.cr[0x27] = cirrus::kDeviceId;
    update_linear_locked();
}

CirrusState CirrusVga::cirrus_state() const {
    std::lock_guard guard(lock_);
    return c_;
}

// --- Ports ---

uint8_t CirrusVga::read_port_locked(uint16_t port) {
    if (port_invalid(port)) return 0xff;
    switch (port) {
    case SEQ_D: return read_sr();
    case PEL_MSK:  // the hidden DAC register shows after four reads
        if (++c_.hidden_dac_lock == 5) {
            c_.hidden_dac_lock = 0;
            return c_.hidden_dac;
        }
        return 0xff;
    case PEL_IW:
        c_.hidden_dac_lock = 0;
        return s_.dac_write_index;
    case PEL_D: {
        uint8_t v = (s_.sr[0x12] & SR12_HIDDEN_PEL)
                        ? c_.hidden_palette[(s_.dac_read_index & 0x0f) * 3u + s_.dac_sub_index]
                        : s_.palette[s_.dac_read_index * 3u + s_.dac_sub_index];
        if (++s_.dac_sub_index == 3) {
            s_.dac_sub_index = 0;
            ++s_.dac_read_index;
        }
        return v;
    }
    case GFX_D: return read_gr(s_.gr_index);
    case CRT_DM:
    case CRT_DC: return read_cr();
    default: return VgaCore::read_port_locked(port);
    }
}

void CirrusVga::write_port_locked(uint16_t port, uint8_t value) {
    if (port_invalid(port)) return;
    switch (port) {
    case SEQ_I: s_.sr_index = value; break;
    case SEQ_D: write_sr(value); break;
    case PEL_MSK:
        if (c_.hidden_dac_lock == 4) c_.hidden_dac = value;
        c_.hidden_dac_lock = 0;
        break;
    case PEL_D:
        s_.dac_cache[s_.dac_sub_index] = value;
        if (++s_.dac_sub_index == 3) {
            uint8_t* to = (s_.sr[0x12] & SR12_HIDDEN_PEL) ? &c_.hidden_palette[(s_.dac_write_index & 0x0f) * 3u]
                                                         : &s_.palette[s_.dac_write_index * 3u];
            std::memcpy(to, s_.dac_cache.data(), 3);
            s_.dac_sub_index = 0;
            ++s_.dac_write_index;
        }
        break;
    case GFX_I: s_.gr_index = value; break;
    case GFX_D: write_gr(s_.gr_index, value); break;
    case CRT_DM:
    case CRT_DC: write_cr(value); break;
    default: VgaCore::write_port_locked(port, value); break;
    }
}

uint8_t CirrusVga::read_sr() {
    uint8_t i = s_.sr_index;
    if ((i & 0x1f) == 0x10) return s_.sr[0x10];  // cursor X (index bits 5-7 are its low bits)
    if ((i & 0x1f) == 0x11) return s_.sr[0x11];
    return i <= 0x1f ? s_.sr[i] : 0xff;
}

void CirrusVga::write_sr(uint8_t value) {
    uint8_t i = s_.sr_index;
    if (i <= 0x04) {
        s_.sr[i] = value & kSrMask[i];
        memory_access_changed();
    } else if (i == 0x06) {  // unlock with 0x12
        s_.sr[i] = (value & 0x17) == 0x12 ? 0x12 : 0x0f;
    } else if ((i & 0x1f) == 0x10) {
        s_.sr[0x10] = value;
        c_.cursor_x = (uint32_t(value) << 3) | (i >> 5);
    } else if ((i & 0x1f) == 0x11) {
        s_.sr[0x11] = value;
        c_.cursor_y = (uint32_t(value) << 3) | (i >> 5);
    } else if (i == 0x17) {
        s_.sr[i] = uint8_t((s_.sr[i] & 0x38) | (value & 0xc7));
        memory_access_changed();
    } else if (i >= 0x07 && i <= 0x1f) {
        s_.sr[i] = value;
        if (i == 0x07) memory_access_changed();
    }
}

uint8_t CirrusVga::read_gr(uint8_t index) const {
    if (index == 0x00) return c_.shadow_gr0;
    if (index == 0x01) return c_.shadow_gr1;
    return index < 0x3a ? s_.gr[index] : 0xff;
}

void CirrusVga::write_gr(uint8_t index, uint8_t value) {
    switch (index) {
    case 0x00: s_.gr[0] = value & kGrMask[0], c_.shadow_gr0 = value; break;
    case 0x01: s_.gr[1] = value & kGrMask[1], c_.shadow_gr1 = value; break;
    case 0x02: case 0x03: case 0x04: case 0x06: case 0x07: case 0x08:
        s_.gr[index] = value & kGrMask[index];
        break;
    case 0x05:
        s_.gr[index] = value & 0x7f;
        memory_access_changed();
        break;
    case 0x09: case 0x0a: case 0x0b:
        s_.gr[index] = value;
        update_bank(0);
        update_bank(1);
        memory_access_changed();
        break;
    case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x20: case 0x22: case 0x24:
    case 0x26: case 0x28: case 0x29: case 0x2c: case 0x2d: case 0x2f: case 0x30: case 0x32: case 0x33:
    case 0x34: case 0x35: case 0x38: case 0x39:
        s_.gr[index] = value;
        break;
    case 0x21: case 0x23: case 0x25: case 0x27: s_.gr[index] = value & 0x1f; break;
    case 0x2a:
        s_.gr[index] = value & 0x3f;
        if (s_.gr[0x31] & 0x80) blt_start();  // autostart
        break;
    case 0x2e: s_.gr[index] = value & 0x3f; break;
    case 0x31: blt_control(value); break;
    default: break;
    }
}

uint8_t CirrusVga::read_cr() const {
    uint8_t i = s_.cr_index;
    if (i <= 0x18 || (i >= 0x19 && i <= 0x1d) || i == 0x22 || i == 0x25 || i == 0x27) return s_.cr[i];
    if (i == 0x24) return s_.ar_flip_flop ? 0x80 : 0x00;
    if (i == 0x26) return s_.ar_index & 0x3f;
    return 0xff;
}

void CirrusVga::write_cr(uint8_t value) {
    uint8_t i = s_.cr_index;
    if (i <= 0x18) {
        if ((s_.cr[CR_V_SYNC_END] & CR11_LOCK_CR0_CR7) && i <= CR_OVERFLOW) {
            if (i == CR_OVERFLOW) s_.cr[i] = uint8_t((s_.cr[i] & ~0x10) | (value & 0x10));
            return;
        }
        s_.cr[i] = value;
    } else if (i >= 0x19 && i <= 0x1d) {
        s_.cr[i] = value;
    }
}

// --- Banks and memory decoding ---

// Bank `bank` (0: 0xa0000, 1: 0xa8000): GR09/GR0A in 4 or 16 KiB units;
// with one bank, the second half follows the first.
void CirrusVga::update_bank(unsigned bank) {
    uint32_t offset = (s_.gr[0x0b] & 0x01) ? s_.gr[0x09 + bank] : s_.gr[0x09];
    offset <<= (s_.gr[0x0b] & 0x20) ? 14 : 12;
    uint32_t limit = cirrus::kRealVram <= offset ? 0 : cirrus::kRealVram - offset;
    if (!(s_.gr[0x0b] & 0x01) && bank != 0) {
        if (limit > 0x8000) {
            offset += 0x8000;
            limit -= 0x8000;
        } else {
            limit = 0;
        }
    }
    c_.bank_base[bank] = limit ? offset : 0;
    c_.bank_limit[bank] = limit;
}

bool CirrusVga::linear_direct_locked() const {
    if ((s_.sr[0x17] & 0x44) == 0x44 || blit_pending()) return false;
    if ((s_.gr[0x0b] & 0x14) == 0x14 || (s_.gr[0x0b] & 0x02)) return false;
    unsigned mode = s_.gr[0x05] & 7;
    return mode < 4 || mode > 5 || !(s_.gr[0x0b] & 0x04);
}

void CirrusVga::memory_access_changed() { update_linear_locked(); }

// GR0B's translations: addresses in 8- or 16-byte units (write modes 4
// and 5 expand a byte to 8 pixels).
uint8_t CirrusVga::read_vram_translated(uint32_t addr) {
    if ((s_.gr[0x0b] & 0x14) == 0x14)
        addr <<= 4;
    else if (s_.gr[0x0b] & 0x02)
        addr <<= 3;
    return vram()[addr & addr_mask_];
}

void CirrusVga::write_vram_translated(uint32_t addr, uint8_t value) {
    if ((s_.gr[0x0b] & 0x14) == 0x14)
        addr <<= 4;
    else if (s_.gr[0x0b] & 0x02)
        addr <<= 3;
    addr &= addr_mask_;
    unsigned mode = s_.gr[0x05] & 7;
    if (mode < 4 || mode > 5 || !(s_.gr[0x0b] & 0x04)) {
        vram()[addr] = value;
        mark_dirty(addr, 1);
    } else {
        write_mode45(addr, value, mode);
    }
}

// Each bit of `value` selects the foreground (1) or, in mode 5, the
// background (0) for one pixel of 8 or 16 bits.
void CirrusVga::write_mode45(uint32_t addr, uint8_t value, unsigned mode) {
    bool wide = (s_.gr[0x0b] & 0x14) == 0x14;
    unsigned step = wide ? 2 : 1;
    for (unsigned x = 0; x < 8; ++x, value = uint8_t(value << 1)) {
        uint32_t at = (addr + x * step) & addr_mask_;
        if (value & 0x80) {
            vram()[at] = c_.shadow_gr1;
            if (wide) vram()[(at + 1) & addr_mask_] = s_.gr[0x11];
        } else if (mode == 5) {
            vram()[at] = c_.shadow_gr0;
            if (wide) vram()[(at + 1) & addr_mask_] = s_.gr[0x10];
        }
    }
    mark_dirty(addr, 8 * step);
}

uint8_t CirrusVga::read_mem_locked(uint32_t offset) {
    if (!svga()) return VgaCore::read_mem_locked(offset);
    offset &= 0x1ffff;
    if (offset < 0x10000) {
        unsigned bank = offset >> 15;
        uint32_t in_bank = offset & 0x7fff;
        if (in_bank >= c_.bank_limit[bank]) return 0xff;
        return read_vram_translated(in_bank + c_.bank_base[bank]);
    }
    if (offset >= 0x18000 && offset < 0x18100 && (s_.sr[0x17] & 0x44) == 0x04)
        return read_blt_register(offset & 0xff);
    return 0xff;
}

void CirrusVga::write_mem_locked(uint32_t offset, uint8_t value) {
    if (!svga()) {
        VgaCore::write_mem_locked(offset, value);
        return;
    }
    offset &= 0x1ffff;
    if (offset < 0x10000) {
        if (blit_pending()) {
            feed_blit(value);
            return;
        }
        unsigned bank = offset >> 15;
        uint32_t in_bank = offset & 0x7fff;
        if (in_bank < c_.bank_limit[bank]) write_vram_translated(in_bank + c_.bank_base[bank], value);
    } else if (offset >= 0x18000 && offset < 0x18100 && (s_.sr[0x17] & 0x44) == 0x04) {
        write_blt_register(offset & 0xff, value);
    }
}

// --- BAR 0 and BAR 1 as MMIO ---

void CirrusVga::linear_io_read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        uint64_t at = offset + i;
        if (at >= cirrus::kBlitAperture) {
            data[i] = 0xff;
            continue;
        }
        uint32_t addr = uint32_t(at) & addr_mask_;
        uint32_t mmio = cirrus::kRealVram - 256;
        if ((s_.sr[0x17] & 0x44) == 0x44 && (addr & mmio) == mmio)
            data[i] = read_blt_register(addr & 0xff);
        else
            data[i] = read_vram_translated(addr);
    }
}

void CirrusVga::linear_io_write(uint64_t offset, std::span<const uint8_t> data) {
    {
        std::lock_guard guard(lock_);
        for (size_t i = 0; i < data.size(); ++i) {
            uint64_t at = offset + i;
            if (at >= cirrus::kBlitAperture) {  // the system-to-video blit aperture
                if (blit_pending()) feed_blit(data[i]);
                continue;
            }
            uint32_t addr = uint32_t(at) & addr_mask_;
            uint32_t mmio = cirrus::kRealVram - 256;
            if ((s_.sr[0x17] & 0x44) == 0x44 && (addr & mmio) == mmio)
                write_blt_register(addr & 0xff, data[i]);
            else if (blit_pending())
                feed_blit(data[i]);
            else
                write_vram_translated(addr, data[i]);
        }
    }
    changed();
}

void CirrusVga::mmio_read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        uint64_t at = offset + i;
        data[i] = at >= 0x100 ? read_blt_register(unsigned(at - 0x100)) : read_port_locked(uint16_t(0x3c0 + at));
    }
}

void CirrusVga::mmio_write(uint64_t offset, std::span<const uint8_t> data) {
    {
        std::lock_guard guard(lock_);
        for (size_t i = 0; i < data.size(); ++i) {
            uint64_t at = offset + i;
            if (at >= 0x100)
                write_blt_register(unsigned(at - 0x100), data[i]);
            else
                write_port_locked(uint16_t(0x3c0 + at), data[i]);
        }
    }
    changed();
}

// --- The blit registers at MMIO offsets, as GR registers ---

namespace {
// MMIO offset → GR index (0xff: none).
constexpr uint8_t blt_register(unsigned a) {
    constexpr uint8_t map[0x41] = {
        0x00, 0x10, 0x12, 0x14, 0x01, 0x11, 0x13, 0x15, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
        0x28, 0x29, 0x2a, 0xff, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0xff, 0x32, 0x33, 0x34, 0x35, 0xff, 0xff,
        0x38, 0x39, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x31,
    };
    return a < sizeof map ? map[a] : 0xff;
}
} // namespace

uint8_t CirrusVga::read_blt_register(unsigned address) const {
    uint8_t gr = blt_register(address);
    return gr == 0xff ? 0xff : read_gr(gr);
}

void CirrusVga::write_blt_register(unsigned address, uint8_t value) {
    uint8_t gr = blt_register(address);
    if (gr != 0xff) write_gr(gr, value);
}

// --- What the renderer asks ---

unsigned CirrusVga::bpp_locked() const {
    if (!svga()) return 0;
    unsigned depth16 = (c_.hidden_dac & 0xf) == 1 ? 16 : 15;
    switch (s_.sr[0x07] & 0x0e) {
    case 0x00: return 8;
    case 0x02: return depth16;
    case 0x04: return 24;
    case 0x06: return depth16;
    case 0x08: return 32;
    default: return 8;
    }
}

void CirrusVga::offsets_locked(uint32_t& line_offset, uint32_t& start_addr, uint32_t& line_compare) const {
    line_offset = (s_.cr[0x13] | (uint32_t(s_.cr[0x1b] & 0x10) << 4)) << 3;
    start_addr = (uint32_t(s_.cr[0x0c]) << 8) | s_.cr[0x0d] | (uint32_t(s_.cr[0x1b] & 0x01) << 16) |
                 (uint32_t(s_.cr[0x1b] & 0x0c) << 15) | (uint32_t(s_.cr[0x1d] & 0x80) << 12);
    line_compare = s_.cr[0x18] | (uint32_t(s_.cr[0x07] & 0x10) << 4) | (uint32_t(s_.cr[0x09] & 0x40) << 3);
}

void CirrusVga::resolution_locked(int& width, int& height) const {
    width = (s_.cr[0x01] + 1) * 8;
    height = (s_.cr[0x12] | ((s_.cr[0x07] & 0x02) << 7) | ((s_.cr[0x07] & 0x40) << 3)) + 1;
    if (s_.cr[0x1a] & 0x01) height *= 2;  // interlaced
}

// --- Hardware cursor: 32x32 or 64x64, two bit planes in VRAM's last 16 KiB ---

uint32_t CirrusVga::cursor_base() const {
    uint32_t base = cirrus::kRealVram - 16 * 1024;
    return base + ((s_.sr[0x12] & SR12_LARGE) ? (s_.sr[0x13] & 0x3c) : (s_.sr[0x13] & 0x3f)) * 256u;
}

bool CirrusVga::force_shadow_locked() const { return s_.sr[0x12] & SR12_SHOW; }

// Lines under the cursor now, and under it at the last frame (to erase it).
bool CirrusVga::cursor_on_line(int y) const {
    int size = (s_.sr[0x12] & SR12_SHOW) ? ((s_.sr[0x12] & SR12_LARGE) ? 64 : 32) : 0;
    bool now = y >= int(c_.cursor_y) && y < int(c_.cursor_y) + size;
    bool before = y >= last_cursor_y_ && y < last_cursor_y_ + last_cursor_size_;
    return now || before;
}

void CirrusVga::frame_done() {
    last_cursor_size_ = (s_.sr[0x12] & SR12_SHOW) ? ((s_.sr[0x12] & SR12_LARGE) ? 64 : 32) : 0;
    last_cursor_y_ = int(c_.cursor_y);
}

void CirrusVga::draw_cursor_line(uint32_t* line, int y, int width) {
    if (!(s_.sr[0x12] & SR12_SHOW)) return;
    int size_now = (s_.sr[0x12] & SR12_LARGE) ? 64 : 32;
    if (y < int(c_.cursor_y) || y >= int(c_.cursor_y) + size_now) return;
    bool large = s_.sr[0x12] & SR12_LARGE;
    int size = large ? 64 : 32;
    uint32_t row = cursor_base() + uint32_t(y - int(c_.cursor_y)) * (large ? 16 : 4);
    uint32_t plane1 = large ? 8 : 128;
    auto byte = [&](uint32_t a) { return vram()[a & (vram_size() - 1)]; };
    auto colour = [&](unsigned i) {
        const uint8_t* p = &c_.hidden_palette[i * 3];
        auto c6 = [](uint8_t v) { uint32_t b = v & 0x3f; return (b << 2) | ((b & 1) << 1) | (b & 1); };
        return (c6(p[0]) << 16) | (c6(p[1]) << 8) | c6(p[2]);
    };
    uint32_t c0 = colour(0), c1 = colour(15);
    for (int x = 0; x < size && int(c_.cursor_x) + x < width; ++x) {
        int b0 = (byte(row + x / 8) >> (7 - x % 8)) & 1;
        int b1 = (byte(row + plane1 + x / 8) >> (7 - x % 8)) & 1;
        uint32_t& px = line[c_.cursor_x + uint32_t(x)];
        switch (b0 | b1 << 1) {
        case 1: px ^= 0xffffff; break;
        case 2: px = c0; break;
        case 3: px = c1; break;
        default: break;
        }
    }
}

} // namespace kestrel
