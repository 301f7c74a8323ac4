// VirtioPciDevice: the legacy interface in I/O BAR 0 (§4.1.4.8) for
// transitional devices: 32 feature bits, queues placed by page frame
// number with the legacy layout, and the MSI-X vector registers only while
// MSI-X is enabled (they move the device config).
#include "virtio/pci/virtio_pci_device.h"

namespace kestrel {

using namespace virtio_pci;

uint16_t VirtioPciDevice::legacy_config_offset() const {
    return msix_ && msix_->enabled() ? LEGACY_CONFIG_MSIX : LEGACY_CONFIG;
}

void VirtioPciDevice::legacy_read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(config_mutex());
    uint16_t config = legacy_config_offset();
    if (offset >= config) {
        device_config_read(offset - config, data);
    } else {
        store_le(data, legacy_read_reg_locked(uint16_t(offset)));
    }
}

void VirtioPciDevice::legacy_write(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard guard(config_mutex());
    uint16_t config = legacy_config_offset();
    if (offset >= config) {
        device_config_write(offset - config, data);
    } else {
        legacy_write_reg_locked(uint16_t(offset), uint32_t(load_le(data)));
    }
}

uint32_t VirtioPciDevice::legacy_read_reg_locked(uint16_t offset) {
    bool queue = queue_select_ < queues_.size();
    switch (offset) {
    case LEGACY_HOST_FEATURES: return uint32_t(device_->device_features());
    case LEGACY_GUEST_FEATURES: return driver_features_[0];
    case LEGACY_QUEUE_PFN: return queue ? uint32_t(queues_[queue_select_].desc >> LEGACY_PFN_SHIFT) : 0;
    case LEGACY_QUEUE_NUM: return queue ? queues_[queue_select_].size : 0;
    case LEGACY_QUEUE_SEL: return queue_select_;
    case LEGACY_STATUS: return status_.load();
    case LEGACY_ISR: return read_isr();
    case LEGACY_MSIX_CONFIG: return config_vector_.load();
    case LEGACY_MSIX_QUEUE: return queue ? queue_vectors_[queue_select_].load() : NO_VECTOR;
    default: return 0;
    }
}

void VirtioPciDevice::legacy_write_reg_locked(uint16_t offset, uint32_t value) {
    switch (offset) {
    case LEGACY_GUEST_FEATURES:
        // Legacy drivers see 32 bits and get what they asked for of those.
        driver_features_[0] = value & uint32_t(device_->device_features());
        driver_features_[1] = 0;
        negotiated_.store(driver_features_[0]);
        return;
    case LEGACY_QUEUE_PFN: set_legacy_pfn_locked(value); return;
    case LEGACY_QUEUE_SEL: select_queue_locked(value); return;
    case LEGACY_QUEUE_NOTIFY: notify_queue(value); return;
    case LEGACY_STATUS: write_status_locked(uint8_t(value)); return;
    case LEGACY_MSIX_CONFIG: config_vector_.store(checked_vector(uint16_t(value))); return;
    case LEGACY_MSIX_QUEUE:
        if (queue_select_ < queues_.size()) queue_vectors_[queue_select_].store(checked_vector(uint16_t(value)));
        return;
    default: return;
    }
}

// The legacy layout (§2.7.2): descriptors at the page, the available ring
// right after them, the used ring on the next 4096-byte boundary. Writing
// 0 resets the device, as in QEMU.
void VirtioPciDevice::set_legacy_pfn_locked(uint32_t pfn) {
    if (pfn == 0) {
        reset_transport_locked();
        return;
    }
    if (queue_select_ >= queues_.size()) return;
    Queue& q = queues_[queue_select_];
    q.desc = uint64_t(pfn) << LEGACY_PFN_SHIFT;
    q.driver = q.desc + 16ull * q.size;
    uint64_t avail_end = q.driver + 2ull * (3 + q.size);  // flags, idx, ring, used_event
    q.device = (avail_end + LEGACY_ALIGN - 1) & ~(LEGACY_ALIGN - 1);
    q.enabled = true;
}

} // namespace kestrel
