#pragma once
// Index/data register pairs of a VGA core (std or Cirrus), as a driver
// writes them.
#include "devices/vga/vga_core.h"
#include "devices/vga/vga_regs.h"

namespace kestrel::test {

inline void vga_seq(VgaCore& v, uint8_t index, uint8_t value) {
    v.port_write(vga::SEQ_I, index);
    v.port_write(vga::SEQ_D, value);
}
inline void vga_gfx(VgaCore& v, uint8_t index, uint8_t value) {
    v.port_write(vga::GFX_I, index);
    v.port_write(vga::GFX_D, value);
}
inline uint8_t vga_gfx_read(VgaCore& v, uint8_t index) {
    v.port_write(vga::GFX_I, index);
    return v.port_read(vga::GFX_D);
}
inline void vga_crtc(VgaCore& v, uint8_t index, uint8_t value) {
    v.port_write(vga::CRT_IC, index);
    v.port_write(vga::CRT_DC, value);
}

} // namespace kestrel::test
