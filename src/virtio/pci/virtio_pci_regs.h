#pragma once
// Register layout of the virtio PCI transport (VIRTIO 1.2 §4.1) and the
// places QEMU puts its structures, which guests' lspci shows.
#include <cstdint>

namespace kestrel::virtio_pci {

// Device status bits (§2.1).
constexpr uint8_t STATUS_ACKNOWLEDGE = 1;
constexpr uint8_t STATUS_DRIVER = 2;
constexpr uint8_t STATUS_DRIVER_OK = 4;
constexpr uint8_t STATUS_FEATURES_OK = 8;
constexpr uint8_t STATUS_NEEDS_RESET = 0x40;
constexpr uint8_t STATUS_FAILED = 0x80;

// Transport feature bits this layer reads (§6).
constexpr unsigned F_RING_INDIRECT_DESC = 28;
constexpr unsigned F_RING_EVENT_IDX = 29;
constexpr unsigned F_VERSION_1 = 32;

constexpr uint16_t NO_VECTOR = 0xffff;
constexpr unsigned QUEUE_MAX = 1024;  // as QEMU's VIRTIO_QUEUE_MAX

constexpr uint8_t ISR_QUEUE = 1;
constexpr uint8_t ISR_CONFIG = 2;

// virtio_pci_cap.cfg_type (§4.1.4).
constexpr uint8_t CAP_COMMON_CFG = 1;
constexpr uint8_t CAP_NOTIFY_CFG = 2;
constexpr uint8_t CAP_ISR_CFG = 3;
constexpr uint8_t CAP_DEVICE_CFG = 4;
constexpr uint8_t CAP_PCI_CFG = 5;
// Fields of struct virtio_pci_cap after the generic ID/next bytes.
constexpr uint16_t CAP_LEN = 2, CAP_CFG_TYPE = 3, CAP_BAR = 4, CAP_ID = 5, CAP_OFFSET = 8, CAP_LENGTH = 12;
constexpr uint16_t CAP_NOTIFY_MULTIPLIER = 16;  // virtio_pci_notify_cap
constexpr uint16_t CAP_PCI_CFG_DATA = 16;        // virtio_pci_cfg_cap
constexpr uint8_t CAP_SIZE = 16, NOTIFY_CAP_SIZE = 20, PCI_CFG_CAP_SIZE = 20;

// Common configuration structure (§4.1.4.3).
constexpr uint16_t COMMON_DFSELECT = 0x00;
constexpr uint16_t COMMON_DF = 0x04;
constexpr uint16_t COMMON_GFSELECT = 0x08;
constexpr uint16_t COMMON_GF = 0x0c;
constexpr uint16_t COMMON_MSIX = 0x10;
constexpr uint16_t COMMON_NUMQ = 0x12;
constexpr uint16_t COMMON_STATUS = 0x14;
constexpr uint16_t COMMON_CFGGENERATION = 0x15;
constexpr uint16_t COMMON_Q_SELECT = 0x16;
constexpr uint16_t COMMON_Q_SIZE = 0x18;
constexpr uint16_t COMMON_Q_MSIX = 0x1a;
constexpr uint16_t COMMON_Q_ENABLE = 0x1c;
constexpr uint16_t COMMON_Q_NOFF = 0x1e;
constexpr uint16_t COMMON_Q_DESCLO = 0x20;
constexpr uint16_t COMMON_Q_DESCHI = 0x24;
constexpr uint16_t COMMON_Q_AVAILLO = 0x28;
constexpr uint16_t COMMON_Q_AVAILHI = 0x2c;
constexpr uint16_t COMMON_Q_USEDLO = 0x30;
constexpr uint16_t COMMON_Q_USEDHI = 0x34;

// Legacy I/O BAR (§4.1.4.8).
constexpr uint16_t LEGACY_HOST_FEATURES = 0x00;
constexpr uint16_t LEGACY_GUEST_FEATURES = 0x04;
constexpr uint16_t LEGACY_QUEUE_PFN = 0x08;
constexpr uint16_t LEGACY_QUEUE_NUM = 0x0c;
constexpr uint16_t LEGACY_QUEUE_SEL = 0x0e;
constexpr uint16_t LEGACY_QUEUE_NOTIFY = 0x10;
constexpr uint16_t LEGACY_STATUS = 0x12;
constexpr uint16_t LEGACY_ISR = 0x13;
constexpr uint16_t LEGACY_MSIX_CONFIG = 0x14;  // only while MSI-X is enabled
constexpr uint16_t LEGACY_MSIX_QUEUE = 0x16;
constexpr uint16_t LEGACY_CONFIG = 0x14;       // device config without MSI-X
constexpr uint16_t LEGACY_CONFIG_MSIX = 0x18;  // and with it
constexpr unsigned LEGACY_PFN_SHIFT = 12;
constexpr uint64_t LEGACY_ALIGN = 4096;

// QEMU's placement: BAR 0 legacy I/O, BAR 1 MSI-X table and PBA, BAR 4 a
// 64-bit prefetchable BAR with one 4 KiB page per modern structure; the
// capabilities at fixed offsets, MSI-X (0x98) first in the list.
constexpr unsigned LEGACY_BAR = 0;
constexpr unsigned MSIX_BAR = 1;
constexpr unsigned MODERN_BAR = 4;
constexpr uint64_t MSIX_BAR_SIZE = 0x1000;
constexpr uint32_t MSIX_TABLE_OFFSET = 0;
constexpr uint32_t MSIX_PBA_OFFSET = 0x800;
constexpr uint64_t MODERN_BAR_SIZE = 0x4000;
constexpr uint32_t REGION_SIZE = 0x1000;
constexpr uint32_t COMMON_OFFSET = 0x0000;
constexpr uint32_t ISR_OFFSET = 0x1000;
constexpr uint32_t DEVICE_OFFSET = 0x2000;
constexpr uint32_t NOTIFY_OFFSET = 0x3000;
constexpr uint32_t NOTIFY_MULTIPLIER = 4;
constexpr uint16_t CAP_AT_COMMON = 0x40;
constexpr uint16_t CAP_AT_ISR = 0x50;
constexpr uint16_t CAP_AT_DEVICE = 0x60;
constexpr uint16_t CAP_AT_NOTIFY = 0x70;
constexpr uint16_t CAP_AT_PCI_CFG = 0x84;
constexpr uint16_t CAP_AT_MSIX = 0x98;

constexpr uint16_t VENDOR_ID = 0x1af4;
constexpr uint16_t MODERN_DEVICE_ID_BASE = 0x1040;

} // namespace kestrel::virtio_pci
