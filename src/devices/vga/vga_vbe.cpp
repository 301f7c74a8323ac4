// The Bochs VBE ("dispi") extension of the std VGA: linear modes up to
// 16000x12000 at 4-32 bpp, panning, banks, the 8-bit DAC. Register values
// are clamped to what fits in VRAM, as QEMU does, since the interface has
// no way to report an error to the guest.
#include "devices/vga/vga_core.h"

#include <algorithm>
#include <cstring>

namespace kestrel {

using namespace vga;

uint16_t VgaCore::vbe_index() const {
    std::lock_guard guard(lock_);
    return s_.vbe_index;
}

void VgaCore::set_vbe_index(uint16_t index) {
    std::lock_guard guard(lock_);
    s_.vbe_index = index;
}

uint16_t VgaCore::vbe_read(uint16_t index) {
    std::lock_guard guard(lock_);
    if (index < VBE_INDEX_COUNT) {
        if (s_.vbe_regs[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
            if (index == VBE_INDEX_XRES) return VBE_MAX_XRES;
            if (index == VBE_INDEX_YRES) return VBE_MAX_YRES;
            if (index == VBE_INDEX_BPP) return VBE_MAX_BPP;
        }
        return s_.vbe_regs[index];
    }
    if (index == VBE_INDEX_VIDEO_MEMORY_64K) return uint16_t(vram_size_ >> 16);
    return 0;
}

void VgaCore::vbe_write(uint16_t index, uint16_t value) {
    std::lock_guard guard(lock_);
    vbe_write_locked(index, value);
    changed();
}

void VgaCore::vbe_write_locked(uint16_t index, uint16_t value) {
    auto& r = s_.vbe_regs;
    switch (index) {
    case VBE_INDEX_ID:
        if (value >= VBE_ID0 && value <= VBE_ID5) r[index] = value;
        break;
    case VBE_INDEX_XRES:
    case VBE_INDEX_YRES:
    case VBE_INDEX_BPP:
    case VBE_INDEX_VIRT_WIDTH:
    case VBE_INDEX_X_OFFSET:
    case VBE_INDEX_Y_OFFSET:
        r[index] = value;
        vbe_fixup_locked();
        vbe_update_vga_locked();
        break;
    case VBE_INDEX_BANK:
        value &= r[VBE_INDEX_BPP] == 4 ? (vbe_bank_mask_ >> 2) : vbe_bank_mask_;
        r[index] = value;
        s_.bank_offset = uint32_t(value) << 16;
        update_memory_access_locked();
        break;
    case VBE_INDEX_ENABLE:
        if ((value & VBE_ENABLED) && !(r[VBE_INDEX_ENABLE] & VBE_ENABLED)) {
            r[VBE_INDEX_VIRT_WIDTH] = 0;
            r[VBE_INDEX_X_OFFSET] = 0;
            r[VBE_INDEX_Y_OFFSET] = 0;
            r[VBE_INDEX_ENABLE] |= VBE_ENABLED;
            vbe_fixup_locked();
            vbe_update_vga_locked();
            if (!(value & VBE_NOCLEARMEM)) {
                uint64_t bytes = std::min<uint64_t>(uint64_t(r[VBE_INDEX_YRES]) * s_.vbe_line_offset, vram_size_);
                std::memset(vram_, 0, bytes);
                mark_dirty(0, bytes);
            }
        } else {
            s_.bank_offset = 0;
        }
        s_.dac_8bit = (value & VBE_8BIT_DAC) != 0;
        r[index] = value;
        update_memory_access_locked();
        break;
    default: break;
    }
}

void VgaCore::vbe_fixup_locked() {
    auto& r = s_.vbe_regs;
    if (!(r[VBE_INDEX_ENABLE] & VBE_ENABLED)) return;
    uint32_t bits;
    switch (r[VBE_INDEX_BPP]) {
    case 4:
    case 8:
    case 16:
    case 24:
    case 32: bits = r[VBE_INDEX_BPP]; break;
    case 15: bits = 16; break;
    default: bits = r[VBE_INDEX_BPP] = 8; break;
    }
    r[VBE_INDEX_XRES] &= ~7u;
    if (r[VBE_INDEX_XRES] == 0) r[VBE_INDEX_XRES] = 8;
    r[VBE_INDEX_XRES] = std::min<uint16_t>(r[VBE_INDEX_XRES], VBE_MAX_XRES);
    r[VBE_INDEX_VIRT_WIDTH] &= ~7u;
    r[VBE_INDEX_VIRT_WIDTH] = std::min<uint16_t>(r[VBE_INDEX_VIRT_WIDTH], VBE_MAX_XRES);
    r[VBE_INDEX_VIRT_WIDTH] = std::max(r[VBE_INDEX_VIRT_WIDTH], r[VBE_INDEX_XRES]);

    uint32_t line_length = uint32_t(r[VBE_INDEX_VIRT_WIDTH]) * bits / 8;
    uint32_t max_y = uint32_t(vram_size_ / line_length);
    if (r[VBE_INDEX_YRES] == 0) r[VBE_INDEX_YRES] = 1;
    r[VBE_INDEX_YRES] = uint16_t(std::min<uint32_t>({r[VBE_INDEX_YRES], VBE_MAX_YRES, max_y}));

    r[VBE_INDEX_X_OFFSET] = std::min<uint16_t>(r[VBE_INDEX_X_OFFSET], VBE_MAX_XRES);
    r[VBE_INDEX_Y_OFFSET] = std::min<uint16_t>(r[VBE_INDEX_Y_OFFSET], VBE_MAX_YRES);
    uint64_t offset = uint64_t(r[VBE_INDEX_X_OFFSET]) * bits / 8 + uint64_t(r[VBE_INDEX_Y_OFFSET]) * line_length;
    uint64_t screen = uint64_t(r[VBE_INDEX_YRES]) * line_length;
    if (offset + screen > vram_size_) {
        r[VBE_INDEX_Y_OFFSET] = 0;
        offset = uint64_t(r[VBE_INDEX_X_OFFSET]) * bits / 8;
        if (offset + screen > vram_size_) {
            r[VBE_INDEX_X_OFFSET] = 0;
            offset = 0;
        }
    }
    r[VBE_INDEX_VIRT_HEIGHT] = uint16_t(std::min<uint32_t>(max_y, 0xffff));
    s_.vbe_line_offset = line_length;
    s_.vbe_start_addr = uint32_t(offset / 4);
}

// What enabling a VBE mode does to the VGA registers: graphics, memory map
// 1 (the 64 KiB bank window), the mode's width and height, chain 4.
void VgaCore::vbe_update_vga_locked() {
    if (!vbe_enabled()) return;
    auto& r = s_.vbe_regs;
    s_.sr_vbe = s_.sr;
    s_.gr[GR_MISC] = uint8_t((s_.gr[GR_MISC] & ~0x0c) | 0x04 | GR06_GRAPHICS);
    s_.cr[CR_MODE] |= 3;
    s_.cr[CR_OFFSET] = uint8_t(s_.vbe_line_offset >> 3);
    s_.cr[CR_H_DISP] = uint8_t((r[VBE_INDEX_XRES] >> 3) - 1);
    unsigned h = r[VBE_INDEX_YRES] - 1u;
    s_.cr[CR_V_DISP_END] = uint8_t(h);
    s_.cr[CR_OVERFLOW] = uint8_t((s_.cr[CR_OVERFLOW] & ~0x42) | ((h >> 7) & 0x02) | ((h >> 3) & 0x40));
    s_.cr[CR_LINE_COMPARE] = 0xff;
    s_.cr[CR_OVERFLOW] |= 0x10;
    s_.cr[CR_MAX_SCAN] |= 0x40;
    unsigned shift_control;
    if (r[VBE_INDEX_BPP] == 4) {
        shift_control = 0;
        s_.sr_vbe[SR_CLOCK_MODE] &= ~SR01_DOUBLE_WIDTH;
    } else {
        shift_control = 2;
        s_.sr_vbe[SR_MEMORY_MODE] |= SR04_CHAIN4;
        s_.sr_vbe[SR_PLANE_WRITE] |= SR02_ALL_PLANES;
    }
    s_.gr[GR_MODE] = uint8_t((s_.gr[GR_MODE] & ~0x60) | (shift_control << 5));
    s_.cr[CR_MAX_SCAN] &= ~0x9f;
}

// --- What the renderer asks of the mode (Cirrus overrides these) ---

unsigned VgaCore::bpp_locked() const { return vbe_enabled() ? s_.vbe_regs[VBE_INDEX_BPP] : 0; }

void VgaCore::offsets_locked(uint32_t& line_offset, uint32_t& start_addr, uint32_t& line_compare) const {
    if (vbe_enabled()) {
        line_offset = s_.vbe_line_offset;
        start_addr = s_.vbe_start_addr;
        line_compare = 65535;
        return;
    }
    line_offset = uint32_t(s_.cr[CR_OFFSET]) << 3;
    start_addr = s_.cr[CR_START_LO] | (uint32_t(s_.cr[CR_START_HI]) << 8);
    line_compare = s_.cr[CR_LINE_COMPARE] | (uint32_t(s_.cr[CR_OVERFLOW] & 0x10) << 4) |
                   (uint32_t(s_.cr[CR_MAX_SCAN] & 0x40) << 3);
}

void VgaCore::resolution_locked(int& width, int& height) const {
    if (vbe_enabled()) {
        width = s_.vbe_regs[VBE_INDEX_XRES];
        height = s_.vbe_regs[VBE_INDEX_YRES];
        return;
    }
    width = (s_.cr[CR_H_DISP] + 1) * 8;
    height = s_.cr[CR_V_DISP_END] | ((s_.cr[CR_OVERFLOW] & 0x02) << 7) | ((s_.cr[CR_OVERFLOW] & 0x40) << 3);
    height += 1;
}

} // namespace kestrel
