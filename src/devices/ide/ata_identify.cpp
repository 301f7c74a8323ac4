// IDENTIFY DEVICE for kestrel's IDE disks, word for word as QEMU's
// ide_identify fills it for "QEMU HARDDISK" (ATA-7 words: LBA48, flush,
// write cache, multiword DMA 0-2 and UDMA 0-5 with the mode in use).
#include "devices/ide/ide_channel.h"

#include <algorithm>

namespace kestrel {
namespace {

// ATA strings: two characters per word, the first in the high byte.
void put_string(std::vector<uint16_t>& w, unsigned first, unsigned words, const std::string& text) {
    for (unsigned i = 0; i < words * 2; ++i) {
        const char c = i < text.size() ? text[i] : ' ';
        uint16_t& word = w[first + i / 2];
        word = i % 2 ? uint16_t((word & 0xff00) | uint8_t(c)) : uint16_t((word & 0x00ff) | uint8_t(c) << 8);
    }
}

// Little-endian words, as the data port hands them out.
std::vector<uint8_t> to_bytes(const std::vector<uint16_t>& w) {
    std::vector<uint8_t> out(2 * w.size());
    for (size_t i = 0; i < w.size(); ++i) {
        out[2 * i] = uint8_t(w[i]);
        out[2 * i + 1] = uint8_t(w[i] >> 8);
    }
    return out;
}

// Words 108-111: the 64-bit world wide name, most significant word first.
void put_wwn(std::vector<uint16_t>& w, uint64_t wwn) {
    if (!wwn) return;
    for (unsigned i = 0; i < 4; ++i) w[108 + i] = uint16_t(wwn >> (48 - 16 * i));
}

} // namespace

std::vector<uint8_t> ata_identify(uint64_t sectors, const IdeDrive& drive, uint8_t mult_sectors,
                                  uint8_t transfer_mode, bool write_cache) {
    std::vector<uint16_t> w(256, 0);
    const HdGeometry& g = drive.geometry;
    const uint64_t chs_sectors = uint64_t(g.cylinders) * g.heads * g.sectors;
    w[0] = 0x0040;  // fixed disk
    w[1] = uint16_t(g.cylinders);
    w[3] = uint16_t(g.heads);
    w[4] = uint16_t(512 * g.sectors);
    w[5] = 512;
    w[6] = uint16_t(g.sectors);
    put_string(w, 10, 10, drive.serial);
    w[20] = 3;  // buffer type
    w[21] = 512;
    w[22] = 4;  // ECC bytes
    put_string(w, 23, 4, drive.version);
    put_string(w, 27, 20, drive.model.empty() ? "QEMU HARDDISK" : drive.model);
    w[47] = 0x8000 | ata::MAX_MULT_SECTORS;
    w[48] = 1;  // dword I/O
    w[49] = (1 << 11) | (1 << 9) | (1 << 8);  // IORDY, LBA, DMA
    w[51] = 0x200;
    w[52] = 0x200;
    w[53] = 1 | (1 << 1) | (1 << 2);  // words 54-58, 64-70 and 88 valid
    w[54] = uint16_t(g.cylinders);
    w[55] = uint16_t(g.heads);
    w[56] = uint16_t(g.sectors);
    w[57] = uint16_t(chs_sectors);
    w[58] = uint16_t(chs_sectors >> 16);
    if (mult_sectors) w[59] = 0x100 | mult_sectors;
    const uint32_t lba28 = uint32_t(std::min<uint64_t>(sectors, 0x0fffffff));
    w[60] = uint16_t(lba28);
    w[61] = uint16_t(lba28 >> 16);
    w[62] = 0x07;  // single word DMA 0-2
    w[63] = 0x07;  // multiword DMA 0-2
    if ((transfer_mode & 0xf8) == 0x20) w[63] |= uint16_t(1u << (8 + (transfer_mode & 7)));
    w[64] = 0x03;  // PIO 3 and 4
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0xf0;  // ATA-4 to ATA-7
    w[81] = 0x16;
    w[82] = (1 << 14) | (1 << 5) | 1;               // NOP... write cache, SMART
    w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10);  // flush ext, flush, LBA48
    w[84] = uint16_t((1 << 14) | (drive.wwn ? 1 << 8 : 0));  // 8: a world wide name
    w[85] = uint16_t((1 << 14) | (write_cache ? 1 << 5 : 0) | 1);
    w[86] = (1 << 13) | (1 << 12) | (1 << 10);
    w[87] = uint16_t((1 << 14) | (drive.wwn ? 1 << 8 : 0));
    w[88] = 0x3f;  // UDMA 0-5
    if ((transfer_mode & 0xf8) == 0x40) w[88] |= uint16_t(1u << (8 + (transfer_mode & 7)));
    w[93] = 1 | (1 << 14) | 0x2000;  // an 80-wire cable
    w[100] = uint16_t(sectors);
    w[101] = uint16_t(sectors >> 16);
    w[102] = uint16_t(sectors >> 32);
    w[103] = uint16_t(sectors >> 48);
    put_wwn(w, drive.wwn);
    return to_bytes(w);
}

} // namespace kestrel

namespace kestrel {

std::vector<uint8_t> atapi_identify(const IdeDrive& drive, uint8_t transfer_mode) {
    std::vector<uint16_t> w(256, 0);
    w[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5);  // ATAPI, CD-ROM, removable, 50 us DRQ, 12-byte packets
    put_string(w, 10, 10, drive.serial);
    w[20] = 3;
    w[21] = 512;
    w[22] = 4;
    put_string(w, 23, 4, drive.version);
    put_string(w, 27, 20, drive.model.empty() ? "QEMU DVD-ROM" : drive.model);
    w[48] = 1;
    w[49] = (1 << 9) | (1 << 8);  // LBA, DMA
    w[53] = 7;
    w[62] = 7;
    w[63] = 7;
    if ((transfer_mode & 0xf8) == 0x20) w[63] |= uint16_t(1u << (8 + (transfer_mode & 7)));
    w[64] = 3;
    w[65] = w[66] = w[67] = w[68] = 180;
    w[71] = 30;
    w[72] = 30;
    w[80] = 0x1e;  // ATA/ATAPI-1 to 4
    w[88] = 0x3f;
    if ((transfer_mode & 0xf8) == 0x40) w[88] |= uint16_t(1u << (8 + (transfer_mode & 7)));
    if (drive.wwn) w[84] = w[87] = 1 << 8;
    put_wwn(w, drive.wwn);
    return to_bytes(w);
}

} // namespace kestrel
