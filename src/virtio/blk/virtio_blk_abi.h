#pragma once
// virtio-blk wire format (VIRTIO 1.2 §5.2): feature bits, request types,
// status values, and the configuration space layout.
#include <cstdint>

namespace kestrel::virtio_blk {

inline constexpr uint16_t kDeviceType = 2;

// Feature bits.
inline constexpr unsigned kFSizeMax = 1;
inline constexpr unsigned kFSegMax = 2;
inline constexpr unsigned kFGeometry = 4;
inline constexpr unsigned kFRo = 5;
inline constexpr unsigned kFBlkSize = 6;
inline constexpr unsigned kFFlush = 9;
inline constexpr unsigned kFTopology = 10;
inline constexpr unsigned kFConfigWce = 11;
inline constexpr unsigned kFMq = 12;
inline constexpr unsigned kFDiscard = 13;
inline constexpr unsigned kFWriteZeroes = 14;

// Request types (the header's first field).
inline constexpr uint32_t kTIn = 0;
inline constexpr uint32_t kTOut = 1;
inline constexpr uint32_t kTFlush = 4;
inline constexpr uint32_t kTGetId = 8;
inline constexpr uint32_t kTDiscard = 11;
inline constexpr uint32_t kTWriteZeroes = 13;
inline constexpr uint32_t kTBarrier = 0x80000000u;  // legacy flag, ignored

// Status byte values.
inline constexpr uint8_t kSOk = 0;
inline constexpr uint8_t kSIoErr = 1;
inline constexpr uint8_t kSUnsupp = 2;

inline constexpr uint32_t kWriteZeroesFlagUnmap = 1;
inline constexpr uint32_t kIdBytes = 20;
inline constexpr uint64_t kSectorSize = 512;
inline constexpr unsigned kSectorShift = 9;

// struct virtio_blk_outhdr / virtio_blk_discard_write_zeroes (little-endian).
struct RequestHeader {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};
struct DiscardSegment {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
};
static_assert(sizeof(RequestHeader) == 16 && sizeof(DiscardSegment) == 16);

// struct virtio_blk_config field offsets.
namespace cfg {
inline constexpr unsigned kCapacity = 0;             // le64, 512-byte sectors
inline constexpr unsigned kSizeMax = 8;              // le32
inline constexpr unsigned kSegMax = 12;              // le32
inline constexpr unsigned kGeometry = 16;            // le16 cylinders, u8 heads, u8 sectors
inline constexpr unsigned kBlkSize = 20;             // le32
inline constexpr unsigned kPhysicalBlockExp = 24;    // u8
inline constexpr unsigned kAlignmentOffset = 25;     // u8
inline constexpr unsigned kMinIoSize = 26;           // le16, in blocks
inline constexpr unsigned kOptIoSize = 28;           // le32, in blocks
inline constexpr unsigned kWriteback = 32;           // u8
inline constexpr unsigned kNumQueues = 34;           // le16
inline constexpr unsigned kMaxDiscardSectors = 36;   // le32
inline constexpr unsigned kMaxDiscardSeg = 40;       // le32
inline constexpr unsigned kDiscardSectorAlignment = 44;  // le32
inline constexpr unsigned kMaxWriteZeroesSectors = 48;   // le32
inline constexpr unsigned kMaxWriteZeroesSeg = 52;       // le32
inline constexpr unsigned kWriteZeroesMayUnmap = 56;     // u8
inline constexpr unsigned kSize = 60;                // through unused1[3]
}  // namespace cfg

} // namespace kestrel::virtio_blk
