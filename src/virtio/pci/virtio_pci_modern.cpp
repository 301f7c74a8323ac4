// VirtioPciDevice: the modern structures in BAR 4 (common config, ISR,
// device config, notify; §4.1.4.3-§4.1.4.7) and the PCI configuration
// access capability (§4.1.4.9).
#include "virtio/pci/virtio_pci_device.h"

#include <spdlog/spdlog.h>

namespace kestrel {

using namespace virtio_pci;

void VirtioPciDevice::modern_read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(config_mutex());
    uint64_t rel = offset % REGION_SIZE;
    switch (offset / REGION_SIZE * REGION_SIZE) {
    case COMMON_OFFSET:
        // 64-bit accesses are two 32-bit ones, as on QEMU's 4-byte-wide regions.
        if (data.size() == 8) {
            store_le(data, common_read_locked(uint16_t(rel)) | uint64_t(common_read_locked(uint16_t(rel + 4))) << 32);
        } else {
            store_le(data, common_read_locked(uint16_t(rel)));
        }
        return;
    case ISR_OFFSET: store_le(data, rel == 0 ? read_isr() : 0); return;
    case DEVICE_OFFSET: device_config_read(rel, data); return;
    default: store_le(data, 0); return;  // notify region and beyond
    }
}

void VirtioPciDevice::modern_write(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard guard(config_mutex());
    uint64_t rel = offset % REGION_SIZE;
    uint64_t value = load_le(data);
    switch (offset / REGION_SIZE * REGION_SIZE) {
    case COMMON_OFFSET:
        common_write_locked(uint16_t(rel), uint32_t(value));
        if (data.size() == 8) common_write_locked(uint16_t(rel + 4), uint32_t(value >> 32));
        return;
    case DEVICE_OFFSET: device_config_write(rel, data); return;
    case NOTIFY_OFFSET: notify_queue(uint32_t(rel / NOTIFY_MULTIPLIER)); return;
    default: return;  // the ISR is read-only
    }
}

// A register is read or written at its own offset, whatever the access
// size (the value is truncated or zero-extended), as QEMU does.
uint32_t VirtioPciDevice::common_read_locked(uint16_t offset) {
    uint64_t features = device_->device_features();
    switch (offset) {
    case COMMON_DFSELECT: return device_feature_select_;
    case COMMON_DF: return device_feature_select_ <= 1 ? uint32_t(features >> (32 * device_feature_select_)) : 0;
    case COMMON_GFSELECT: return driver_feature_select_;
    case COMMON_GF: return driver_feature_select_ <= 1 ? driver_features_[driver_feature_select_] : 0;
    case COMMON_MSIX: return config_vector_.load();
    case COMMON_NUMQ: return uint32_t(queues_.size());
    case COMMON_STATUS: return status_.load();
    case COMMON_CFGGENERATION: return generation_.load();
    case COMMON_Q_SELECT: return queue_select_;
    default: return queue_field_locked(offset);
    }
}

uint32_t VirtioPciDevice::queue_field_locked(uint16_t offset) const {
    if (offset == COMMON_Q_NOFF) return queue_select_;  // notify_off = queue index
    if (queue_select_ >= queues_.size()) return offset == COMMON_Q_MSIX ? NO_VECTOR : 0;
    const Queue& q = queues_[queue_select_];
    switch (offset) {
    case COMMON_Q_SIZE: return q.size;
    case COMMON_Q_MSIX: return queue_vectors_[queue_select_].load();
    case COMMON_Q_ENABLE: return q.enabled;
    case COMMON_Q_DESCLO: return uint32_t(q.desc);
    case COMMON_Q_DESCHI: return uint32_t(q.desc >> 32);
    case COMMON_Q_AVAILLO: return uint32_t(q.driver);
    case COMMON_Q_AVAILHI: return uint32_t(q.driver >> 32);
    case COMMON_Q_USEDLO: return uint32_t(q.device);
    case COMMON_Q_USEDHI: return uint32_t(q.device >> 32);
    default: return 0;
    }
}

void VirtioPciDevice::common_write_locked(uint16_t offset, uint32_t value) {
    switch (offset) {
    case COMMON_DFSELECT: device_feature_select_ = value; return;
    case COMMON_GFSELECT: driver_feature_select_ = value; return;
    case COMMON_GF: write_driver_features_locked(driver_feature_select_, value); return;
    case COMMON_MSIX: config_vector_.store(checked_vector(uint16_t(value))); return;
    case COMMON_STATUS: write_status_locked(uint8_t(value)); return;
    case COMMON_Q_SELECT: select_queue_locked(value); return;
    default: write_queue_field_locked(offset, value); return;
    }
}

namespace {
void set_low(uint64_t& field, uint32_t value) { field = (field & ~0xffffffffull) | value; }
void set_high(uint64_t& field, uint32_t value) { field = (field & 0xffffffffull) | uint64_t(value) << 32; }
} // namespace

void VirtioPciDevice::write_queue_field_locked(uint16_t offset, uint32_t value) {
    if (queue_select_ >= queues_.size()) return;
    Queue& q = queues_[queue_select_];
    switch (offset) {
    case COMMON_Q_SIZE:
        // Split rings need a power of two no larger than the device's maximum.
        if (value != 0 && value <= device_->queue_max_size(queue_select_) && (value & (value - 1)) == 0) {
            q.size = uint16_t(value);
        } else {
            spdlog::warn("virtio-pci: queue {} size {} refused", queue_select_, value);
        }
        return;
    case COMMON_Q_MSIX: queue_vectors_[queue_select_].store(checked_vector(uint16_t(value))); return;
    case COMMON_Q_ENABLE:
        if (value == 1) {
            q.enabled = true;
        } else {
            spdlog::warn("virtio-pci: wrong value for queue_enable {:#x}", value);
        }
        return;
    case COMMON_Q_DESCLO: set_low(q.desc, value); return;
    case COMMON_Q_DESCHI: set_high(q.desc, value); return;
    case COMMON_Q_AVAILLO: set_low(q.driver, value); return;
    case COMMON_Q_AVAILHI: set_high(q.driver, value); return;
    case COMMON_Q_USEDLO: set_low(q.device, value); return;
    case COMMON_Q_USEDHI: set_high(q.device, value); return;
    default: return;
    }
}

// Device-specific configuration: outside it reads are all ones and writes
// are dropped, as QEMU does.
void VirtioPciDevice::device_config_read(uint64_t offset, std::span<uint8_t> data) {
    if (offset + data.size() > options_.config_size) {
        std::fill(data.begin(), data.end(), 0xff);
    } else {
        device_->read_config(offset, data);
    }
}

void VirtioPciDevice::device_config_write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset + data.size() <= options_.config_size) device_->write_config(offset, data);
}

// The window in config space onto BAR 4: a read of pci_cfg_data fetches
// `length` bytes at `offset`, a write stores them there.
void VirtioPciDevice::pci_cfg_access_locked(bool write) {
    uint32_t offset = cfg32(CAP_AT_PCI_CFG + CAP_OFFSET);
    uint32_t length = cfg32(CAP_AT_PCI_CFG + CAP_LENGTH);
    if ((length != 1 && length != 2 && length != 4) || uint64_t(offset) + length > MODERN_BAR_SIZE) return;
    uint16_t at = CAP_AT_PCI_CFG + CAP_PCI_CFG_DATA;
    uint8_t bytes[4];
    for (unsigned i = 0; i < 4; ++i) bytes[i] = cfg8(uint16_t(at + i));
    if (write) {
        modern_write(offset, {bytes, length});
    } else {
        modern_read(offset, {bytes, length});
        for (unsigned i = 0; i < length; ++i) set_cfg8(uint16_t(at + i), bytes[i]);
    }
}

} // namespace kestrel
