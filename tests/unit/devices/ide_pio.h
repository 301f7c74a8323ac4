#pragma once
// The host's side of an IDE PIO data transfer: 16-bit reads of the data
// register, little-endian (ide_test.cpp, ide_cd_rig.h).
#include "devices/ide/ide_channel.h"

#include <cstdint>
#include <vector>

namespace kestrel::test {

inline std::vector<uint8_t> read_pio_words(IdeChannel& ch, size_t bytes) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < bytes; i += 2) {
        uint16_t w = uint16_t(ch.read_command(0, 2));
        out.push_back(uint8_t(w));
        out.push_back(uint8_t(w >> 8));
    }
    return out;
}

} // namespace kestrel::test
