#pragma once
// Replies of the ATAPI commands whose bytes depend only on the packet and
// the medium (READ CAPACITY, READ TOC, MODE SENSE(10), GET CONFIGURATION, READ DISC
// INFORMATION, MECHANISM STATUS), byte for byte as QEMU 7.2's drive gives
// them: Linux's sr and cdrom drivers and firmware read them.
#include <cstdint>
#include <vector>

namespace kestrel::atapi {

// The reply, or an ILLEGAL REQUEST with `asc` when that is not 0.
struct Reply {
    std::vector<uint8_t> data;
    uint8_t asc = 0;
};

constexpr uint8_t ASC_INVALID_FIELD = 0x24, ASC_SAVING_NOT_SUPPORTED = 0x39;

// medium_bytes: the inserted medium's size (0: none).
Reply read_capacity(uint64_t medium_bytes);
Reply read_toc(const uint8_t* packet, uint64_t medium_bytes);
Reply mode_sense(const uint8_t* packet, bool tray_locked);
Reply get_configuration(const uint8_t* packet, uint64_t medium_bytes);
Reply read_disc_information(const uint8_t* packet);
Reply mechanism_status();

} // namespace kestrel::atapi
