#pragma once
// virtio-net wire format (VIRTIO 1.2 §5.1): feature bits, the config space
// layout, the packet header and the control queue's commands.
#include <cstdint>

namespace kestrel::virtio_net {

inline constexpr uint16_t kDeviceType = 1;

// Feature bits.
inline constexpr unsigned kFCsum = 0;
inline constexpr unsigned kFGuestCsum = 1;
inline constexpr unsigned kFCtrlGuestOffloads = 2;
inline constexpr unsigned kFMtu = 3;
inline constexpr unsigned kFMac = 5;
inline constexpr unsigned kFGso = 6;   // legacy
inline constexpr unsigned kFGuestTso4 = 7;
inline constexpr unsigned kFGuestTso6 = 8;
inline constexpr unsigned kFGuestEcn = 9;
inline constexpr unsigned kFGuestUfo = 10;
inline constexpr unsigned kFHostTso4 = 11;
inline constexpr unsigned kFHostTso6 = 12;
inline constexpr unsigned kFHostEcn = 13;
inline constexpr unsigned kFHostUfo = 14;
inline constexpr unsigned kFMrgRxbuf = 15;
inline constexpr unsigned kFStatus = 16;
inline constexpr unsigned kFCtrlVq = 17;
inline constexpr unsigned kFCtrlRx = 18;
inline constexpr unsigned kFCtrlVlan = 19;
inline constexpr unsigned kFCtrlRxExtra = 20;
inline constexpr unsigned kFGuestAnnounce = 21;
inline constexpr unsigned kFMq = 22;
inline constexpr unsigned kFCtrlMacAddr = 23;
inline constexpr unsigned kFSpeedDuplex = 63;
inline constexpr unsigned kFNotifyOnEmpty = 24;  // transport, legacy
inline constexpr unsigned kFAnyLayout = 27;      // transport, legacy

inline constexpr uint64_t bit(unsigned feature) { return 1ull << feature; }

// What the guest may receive, as offloads (CTRL_GUEST_OFFLOADS uses the
// same bits).
inline constexpr uint64_t kGuestOffloads =
    bit(kFGuestCsum) | bit(kFGuestTso4) | bit(kFGuestTso6) | bit(kFGuestEcn) | bit(kFGuestUfo);
// What needs the backend's vnet header.
inline constexpr uint64_t kHeaderOffloads =
    kGuestOffloads | bit(kFCsum) | bit(kFHostTso4) | bit(kFHostTso6) | bit(kFHostEcn) | bit(kFHostUfo);

// Config space.
namespace cfg {
inline constexpr unsigned kMac = 0;
inline constexpr unsigned kStatus = 6;
inline constexpr unsigned kMaxVirtqueuePairs = 8;
inline constexpr unsigned kMtu = 10;
inline constexpr unsigned kSpeed = 12;
inline constexpr unsigned kDuplex = 16;
inline constexpr unsigned kSize = 24;   // through the RSS fields kestrel does not offer
} // namespace cfg

inline constexpr uint16_t kStatusLinkUp = 1;
inline constexpr uint16_t kStatusAnnounce = 2;
inline constexpr uint8_t kDuplexUnknown = 0xff;

// virtio_net_hdr (VIRTIO 1.2 §5.1.6): 10 bytes, 12 with num_buffers.
inline constexpr unsigned kHdrNumBuffersOffset = 10;

// Control queue: {class, command} then data, then the ack byte.
inline constexpr uint8_t kOk = 0;
inline constexpr uint8_t kErr = 1;
inline constexpr uint8_t kClassRx = 0;
inline constexpr uint8_t kRxPromisc = 0, kRxAllmulti = 1, kRxAlluni = 2, kRxNomulti = 3, kRxNouni = 4,
                         kRxNobcast = 5;
inline constexpr uint8_t kClassMac = 1;
inline constexpr uint8_t kMacTableSet = 0, kMacAddrSet = 1;
inline constexpr uint8_t kClassVlan = 2;
inline constexpr uint8_t kVlanAdd = 0, kVlanDel = 1;
inline constexpr uint8_t kClassAnnounce = 3;
inline constexpr uint8_t kAnnounceAck = 0;
inline constexpr uint8_t kClassMq = 4;
inline constexpr uint8_t kMqVqPairsSet = 0;
inline constexpr uint8_t kClassGuestOffloads = 5;
inline constexpr uint8_t kGuestOffloadsSet = 0;

inline constexpr unsigned kMacTableEntries = 64;   // QEMU's MAC_TABLE_ENTRIES
inline constexpr unsigned kMaxVlan = 4096;
inline constexpr uint16_t kCtrlQueueSize = 64;

} // namespace kestrel::virtio_net
