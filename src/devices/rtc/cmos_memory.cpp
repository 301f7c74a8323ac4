// The CMOS RAM bytes firmware and guests read for the machine's shape.
#include "devices/rtc/cmos_rtc.h"

#include <algorithm>

namespace kestrel {

namespace {

constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB;
constexpr uint8_t kBaseMemoryLow = 0x15, kBaseMemoryHigh = 0x16;      // KiB below 1 MiB
constexpr uint8_t kExtMemoryLow = 0x17, kExtMemoryHigh = 0x18;        // KiB above 1 MiB
constexpr uint8_t kExtMemoryCopyLow = 0x30, kExtMemoryCopyHigh = 0x31;
constexpr uint8_t kMemAbove16MLow = 0x34, kMemAbove16MHigh = 0x35;    // 64 KiB units
constexpr uint8_t kMemAbove4GLow = 0x5b;                              // 3 bytes, 64 KiB units
constexpr uint8_t kCpuCountMinusOne = 0x5f;
constexpr uint8_t kBootOrderFirst = 0x3d, kBootOrderThird = 0x38;  // Bochs BIOS boot order nibbles
constexpr uint8_t kChecksumFirst = 0x10, kChecksumLast = 0x2d;
constexpr uint8_t kChecksumHigh = 0x2e, kChecksumLow = 0x2f;
constexpr uint8_t kFirstRamByte = 0x0e;  // below are the clock's registers

constexpr uint64_t kBaseMemoryKiB = 640;

} // namespace

void CmosRtc::set_memory_size(uint64_t below_4g, uint64_t above_4g) {
    std::lock_guard guard(lock_);
    cmos_[kBaseMemoryLow] = uint8_t(kBaseMemoryKiB);
    cmos_[kBaseMemoryHigh] = uint8_t(kBaseMemoryKiB >> 8);

    uint64_t ext_kib = below_4g > kMiB ? std::min<uint64_t>((below_4g - kMiB) / kKiB, 0xffff) : 0;
    cmos_[kExtMemoryLow] = cmos_[kExtMemoryCopyLow] = uint8_t(ext_kib);
    cmos_[kExtMemoryHigh] = cmos_[kExtMemoryCopyHigh] = uint8_t(ext_kib >> 8);

    uint64_t above_16m = below_4g > 16 * kMiB ? std::min<uint64_t>((below_4g - 16 * kMiB) >> 16, 0xffff) : 0;
    cmos_[kMemAbove16MLow] = uint8_t(above_16m);
    cmos_[kMemAbove16MHigh] = uint8_t(above_16m >> 8);

    uint64_t high = std::min<uint64_t>(above_4g >> 16, 0xffffff);
    for (int i = 0; i < 3; ++i) cmos_[kMemAbove4GLow + i] = uint8_t(high >> (8 * i));
    update_checksum();
}

void CmosRtc::set_cpu_count(unsigned cpus) {
    std::lock_guard guard(lock_);
    cmos_[kCpuCountMinusOne] = uint8_t(cpus > 0 ? cpus - 1 : 0);
}

void CmosRtc::set_boot_order(std::string_view order) {
    auto nibble = [](char c) -> uint8_t {
        switch (c) {
        case 'a': case 'b': return 1;
        case 'c': return 2;
        case 'd': return 3;
        case 'n': return 4;
        }
        return 0;
    };
    uint8_t n[3] = {};
    for (size_t i = 0; i < order.size() && i < 3; ++i) n[i] = nibble(order[i]);
    std::lock_guard guard(lock_);
    cmos_[kBootOrderFirst] = uint8_t(n[1] << 4 | n[0]);
    cmos_[kBootOrderThird] = uint8_t(n[2] << 4);  // bit 0 clear: check the floppy's boot signature
}

void CmosRtc::set_hard_disks(const std::array<std::optional<HdGeometry>, 4>& disks) {
    constexpr uint8_t kDiskTypes = 0x12, kUserType = 47, kTranslations = 0x39;
    constexpr uint8_t kTypeAt[2] = {0x19, 0x1a}, kInfoAt[2] = {0x1b, 0x24};
    std::lock_guard guard(lock_);
    uint8_t types = 0, translations = 0;
    for (unsigned i = 0; i < 2; ++i) {
        if (!disks[i]) continue;
        const HdGeometry& g = *disks[i];
        uint8_t* info = &cmos_[kInfoAt[i]];
        cmos_[kTypeAt[i]] = kUserType;
        info[0] = uint8_t(g.cylinders);
        info[1] = uint8_t(g.cylinders >> 8);
        info[2] = uint8_t(g.heads);
        info[3] = info[4] = 0xff;                              // write precompensation: none
        info[5] = uint8_t(0xc0 | (g.heads > 8 ? 0x08 : 0));    // control byte
        info[6] = uint8_t(g.cylinders);                        // landing zone
        info[7] = uint8_t(g.cylinders >> 8);
        info[8] = uint8_t(g.sectors);
        types |= i == 0 ? 0xf0 : 0x0f;
    }
    for (unsigned i = 0; i < 4; ++i)
        if (disks[i]) translations |= uint8_t(uint8_t(disks[i]->translation) << (2 * i));
    cmos_[kDiskTypes] = types;
    cmos_[kTranslations] = translations;
    update_checksum();
}

void CmosRtc::set_cmos_byte(uint8_t index, uint8_t value) {
    std::lock_guard guard(lock_);
    index &= 0x7f;
    if (index < kFirstRamByte) {
        write_register(index, value);
        return;
    }
    cmos_[index] = value;
    if (index >= kChecksumFirst && index <= kChecksumLast) update_checksum();
}

uint8_t CmosRtc::cmos_byte(uint8_t index) const {
    std::lock_guard guard(lock_);
    return cmos_[index & 0x7f];
}

void CmosRtc::update_checksum() {
    unsigned sum = 0;
    for (unsigned i = kChecksumFirst; i <= kChecksumLast; ++i) sum += cmos_[i];
    cmos_[kChecksumHigh] = uint8_t(sum >> 8);
    cmos_[kChecksumLow] = uint8_t(sum);
}

} // namespace kestrel
