#include "devices/ide/atapi_replies.h"

#include <cstddef>

namespace kestrel::atapi {
namespace {

constexpr uint32_t kSector = 2048;
// A medium larger than an 80-minute CD is a DVD (QEMU's rule).
constexpr uint64_t kCdMaxBytes = uint64_t(80) * 60 * 75 * kSector;
constexpr uint16_t kProfileCdRom = 0x0008, kProfileDvdRom = 0x0010;

void put_be(std::vector<uint8_t>& out, size_t at, uint32_t v, unsigned bytes) {
    for (unsigned i = 0; i < bytes; ++i) out[at + i] = uint8_t(v >> (8 * (bytes - 1 - i)));
}

// An address field of a TOC descriptor: the LBA, or 0 and M:S:F (2 s of lead-in).
void put_address(std::vector<uint8_t>& out, uint32_t lba, bool msf) {
    if (!msf) {
        out.resize(out.size() + 4);
        return put_be(out, out.size() - 4, lba, 4);
    }
    lba += 150;
    out.insert(out.end(), {0, uint8_t(lba / 75 / 60), uint8_t(lba / 75 % 60), uint8_t(lba % 75)});
}

Reply with_length(std::vector<uint8_t> data) {
    put_be(data, 0, uint32_t(data.size() - 2), 2);
    return {std::move(data)};
}

// Format 0: track 1 (unless the guest starts at the lead-out) and the lead-out.
Reply formatted_toc(uint32_t blocks, bool msf, uint8_t start_track) {
    if (start_track > 1 && start_track != 0xaa) return {{}, ASC_INVALID_FIELD};
    std::vector<uint8_t> toc = {0, 0, 1, 1};
    if (start_track <= 1) {
        toc.insert(toc.end(), {0, 0x14, 1, 0});   // data track 1
        put_address(toc, 0, msf);
    }
    toc.insert(toc.end(), {0, 0x16, 0xaa, 0});    // the lead-out
    put_address(toc, blocks, msf);
    return with_length(std::move(toc));
}

// Format 2: the raw TOC's points A0, A1, A2 and track 1, all of session 1.
Reply raw_toc(uint32_t blocks, bool msf) {
    std::vector<uint8_t> toc = {0, 0, 1, 1};
    toc.insert(toc.end(), {1, 0x14, 0, 0xa0, 0, 0, 0, 0, 1, 0, 0});   // first track 1
    toc.insert(toc.end(), {1, 0x14, 0, 0xa1, 0, 0, 0, 0, 1, 0, 0});   // last track 1
    toc.insert(toc.end(), {1, 0x14, 0, 0xa2, 0, 0, 0});               // lead-out start
    put_address(toc, blocks, msf);
    toc.insert(toc.end(), {1, 0x14, 0, 1, 0, 0, 0});                  // track 1 start
    if (msf) put_address(toc, 0, true);
    else toc.insert(toc.end(), {0, 0, 0, 0});
    return with_length(std::move(toc));
}

// A mode parameter header (medium type 0x70, as QEMU's) and the page.
Reply mode_page(std::vector<uint8_t> page) {
    std::vector<uint8_t> out(8, 0);
    out[2] = 0x70;
    out.insert(out.end(), page.begin(), page.end());
    return with_length(std::move(out));
}

} // namespace

// The last block and the block size.
Reply read_capacity(uint64_t medium_bytes) {
    std::vector<uint8_t> cap(8, 0);
    put_be(cap, 0, uint32_t(medium_bytes / kSector - 1), 4);
    put_be(cap, 4, kSector, 4);
    return {std::move(cap)};
}

// The format in byte 9's top bits, where ATAPI drives (and QEMU) read it.
Reply read_toc(const uint8_t* p, uint64_t medium_bytes) {
    const bool msf = p[1] & 2;
    const uint32_t blocks = uint32_t(medium_bytes / kSector);
    switch (p[9] >> 6) {
    case 0:
        return formatted_toc(blocks, msf, p[6]);
    case 1: {  // one complete session, starting at track 1
        std::vector<uint8_t> info(12, 0);
        info[1] = 0x0a;
        info[2] = info[3] = 1;
        return {std::move(info)};
    }
    case 2:
        return raw_toc(blocks, msf);
    }
    return {{}, ASC_INVALID_FIELD};
}

// Current values of the error recovery, audio control and capabilities
// pages; changeable and default values are refused, saved ones unsupported.
Reply mode_sense(const uint8_t* p, bool tray_locked) {
    const unsigned control = p[2] >> 6, page = p[2] & 0x3f;
    if (control == 3) return {{}, ASC_SAVING_NOT_SUPPORTED};
    if (control != 0) return {{}, ASC_INVALID_FIELD};
    switch (page) {
    case 0x01:
        return mode_page({0x01, 6, 0, 0x05, 0, 0, 0, 0});
    case 0x0e: {
        std::vector<uint8_t> audio(16, 0);
        audio[0] = 0x0e;
        audio[1] = 14;
        return mode_page(std::move(audio));
    }
    case 0x2a: {
        std::vector<uint8_t> caps(22, 0);
        caps[0] = 0x2a;
        caps[1] = 20;
        caps[2] = 0x3b;                          // reads CD-R/RW, DVD-ROM/R/RAM
        caps[4] = 0x71;                          // audio play, among others (Linux looks)
        caps[5] = 0x60;
        caps[6] = uint8_t(0x29 | (tray_locked ? 0x02 : 0));   // lock, eject, tray loader
        put_be(caps, 8, 704, 2);                 // maximum read speed, kB/s
        caps[11] = 2;                            // volume levels
        put_be(caps, 12, 512, 2);                // buffer, KiB
        put_be(caps, 14, 704, 2);                // current read speed
        return mode_page(std::move(caps));
    }
    }
    return {{}, ASC_INVALID_FIELD};
}

// Feature 0 only: the profile list (DVD-ROM, CD-ROM), the medium's current.
Reply get_configuration(const uint8_t* p, uint64_t medium_bytes) {
    if (p[2] || p[3]) return {{}, ASC_INVALID_FIELD};
    const uint16_t current = medium_bytes == 0 ? 0 : medium_bytes > kCdMaxBytes ? kProfileDvdRom : kProfileCdRom;
    std::vector<uint8_t> config(20, 0);
    put_be(config, 0, 16, 4);
    put_be(config, 6, current, 2);
    config[10] = 0x03;                           // persistent, current
    config[11] = 8;
    put_be(config, 12, kProfileDvdRom, 2);
    config[14] = current == kProfileDvdRom;
    put_be(config, 16, kProfileCdRom, 2);
    config[18] = current == kProfileCdRom;
    return {std::move(config)};
}

// Disc information type 0 (the others are Blu-ray's): a finalized disc, one
// session of one track.
Reply read_disc_information(const uint8_t* p) {
    if (p[1] & 7) return {{}, ASC_INVALID_FIELD};
    std::vector<uint8_t> info(34, 0);
    info[1] = 32;
    info[2] = 0x0e;
    info[3] = info[4] = info[5] = info[6] = 1;
    info[7] = 0x20;                              // unrestricted use
    return {std::move(info)};
}

Reply mechanism_status() { return {{0, 0, 0, 0, 0, 1, 0, 0}}; }

} // namespace kestrel::atapi
