#pragma once
// The VGA BIOS ROMs of Debian's seabios package (vgabios-stdvga.bin,
// vgabios-cirrus.bin): where to find them, and the 8x16 font a VGA BIOS
// loads into plane 2 when it sets a text mode. Without firmware kestrel
// plays the VGA BIOS's part at reset with that same font, so the guest's
// text console looks as it does under QEMU.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

// The 256 glyphs of 16 lines (4096 bytes) of the VGA BIOS in `rom`, found
// by their first glyphs (blank, then the smiley face every PC font starts
// with); empty if the ROM has no such table.
std::vector<uint8_t> vga_bios_font(const std::vector<uint8_t>& rom);

// Reads a whole file; empty on error.
std::vector<uint8_t> read_rom_file(const std::string& path);

} // namespace kestrel
