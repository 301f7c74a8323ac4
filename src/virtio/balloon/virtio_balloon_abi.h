#pragma once
// virtio-balloon as the guest sees it (VIRTIO 1.2 §5.5) and QEMU 7.2 lays
// it out: feature bits, queues, configuration space.
#include <cstdint>

namespace kestrel::virtio_balloon {

inline constexpr uint16_t kDeviceType = 5;
inline constexpr unsigned kPageShift = 12;  // PFNs in the inflate/deflate queues are 4 KiB pages
inline constexpr uint64_t kPageSize = 1ull << kPageShift;

// Feature bits.
inline constexpr unsigned kFMustTellHost = 0;
inline constexpr unsigned kFStatsVq = 1;
inline constexpr unsigned kFDeflateOnOom = 2;
inline constexpr unsigned kFFreePageHint = 3;
inline constexpr unsigned kFPagePoison = 4;
inline constexpr unsigned kFReporting = 5;

// Queues, in QEMU's order; the reporting queue exists with its feature.
inline constexpr unsigned kInflateQueue = 0;
inline constexpr unsigned kDeflateQueue = 1;
inline constexpr unsigned kStatsQueue = 2;
inline constexpr unsigned kReportingQueue = 3;
inline constexpr uint16_t kQueueSize = 128;
inline constexpr uint16_t kReportingQueueSize = 32;

// struct virtio_balloon_config (little-endian u32 fields).
namespace cfg {
inline constexpr unsigned kNumPages = 0;
inline constexpr unsigned kActual = 4;
inline constexpr unsigned kFreePageHintCmdId = 8;
inline constexpr unsigned kPoisonVal = 12;
inline constexpr unsigned kSize = 16;
} // namespace cfg

// One statistic in the stats queue: le16 tag, le64 value, packed.
inline constexpr unsigned kStatRecordSize = 10;

} // namespace kestrel::virtio_balloon
