#include "devices/vga/vga_bios.h"

#include "base/file_bytes.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

namespace kestrel {

std::vector<uint8_t> read_rom_file(const std::string& path) {
    return read_file_bytes(path).value_or(std::vector<uint8_t>{});
}

std::vector<uint8_t> vga_bios_font(const std::vector<uint8_t>& rom) {
    constexpr size_t kFontBytes = 256 * 16;
    // Glyph 0 (blank) and glyph 1 (the smiley) of the IBM PC's 8x16 font.
    static constexpr std::array<uint8_t, 32> kStart = {
        0, 0, 0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0,
        0, 0, 0x7e, 0x81, 0xa5, 0x81, 0x81, 0xbd, 0x99, 0x81, 0x81, 0x7e, 0, 0, 0, 0,
    };
    auto at = std::search(rom.begin(), rom.end(), kStart.begin(), kStart.end());
    if (at == rom.end() || size_t(rom.end() - at) < kFontBytes) return {};
    return {at, at + kFontBytes};
}

} // namespace kestrel
