#pragma once
// A VGA card's guest-visible state in one plain struct: the standard VGA
// registers (arrays sized for Cirrus' extended indexes), the DAC, the read
// latch and the Bochs VBE registers. VRAM itself lives beside it.
#include "devices/vga/vga_regs.h"

#include <array>
#include <cstdint>

namespace kestrel {

struct VgaState {
    uint8_t misc_output = 0;
    uint8_t feature_control = 0;
    uint8_t st00 = 0, st01 = 0;
    uint8_t sr_index = 0, gr_index = 0, cr_index = 0, ar_index = 0;
    std::array<uint8_t, 256> sr{}, gr{}, cr{};
    // The sequencer as the memory logic sees it while VBE is enabled: sr
    // with chain 4 and all planes forced on (QEMU's sr_vbe).
    std::array<uint8_t, 256> sr_vbe{};
    std::array<uint8_t, vga::AR_COUNT> ar{};
    bool ar_flip_flop = false;
    // DAC: 256 RGB triplets of 6 bits (8 with VBE's 8-bit DAC).
    uint8_t dac_state = 0, dac_sub_index = 0, dac_read_index = 0, dac_write_index = 0;
    std::array<uint8_t, 3> dac_cache{};
    std::array<uint8_t, 768> palette{};
    bool dac_8bit = false;
    uint32_t latch = 0;          // the four planes' bytes of the last read
    uint32_t bank_offset = 0;    // VBE bank: start of the 64 KiB window in VRAM
    uint8_t plane_updated = 0;   // planes written since the last text redraw (font changes)
    // Bochs VBE.
    uint16_t vbe_index = 0;
    std::array<uint16_t, vga::VBE_INDEX_COUNT> vbe_regs{};
    uint32_t vbe_start_addr = 0;   // in 4-byte units, as the CRTC start address
    uint32_t vbe_line_offset = 0;  // bytes per scan line
    bool big_endian_fb = false;    // QEMU's byte-order register (MMIO 0x604)
};

} // namespace kestrel
