// VirtioPciDevice: register semantics shared by the modern and legacy
// interfaces (status, features, vectors, queues), activation and reset,
// ioeventfds and interrupts.
#include "virtio/pci/virtio_pci_device.h"

#include <algorithm>
#include <exception>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace kestrel {

using namespace virtio_pci;

// --- Status and features (config mutex held) ---

void VirtioPciDevice::write_status_locked(uint8_t value) {
    if (value == 0) {
        reset_transport_locked();
        return;
    }
    uint8_t old = status_.load();
    if ((value & STATUS_FEATURES_OK) && !(old & STATUS_FEATURES_OK)) {
        uint64_t wanted = driver_features_[0] | uint64_t(driver_features_[1]) << 32;
        uint64_t unknown = wanted & ~device_->device_features();
        if (unknown) {
            // FEATURES_OK stays clear: the driver sees the refusal (§3.1.1).
            spdlog::warn("virtio-pci: driver accepted features the device does not offer ({:#x})", unknown);
            value &= uint8_t(~STATUS_FEATURES_OK);
        } else {
            negotiated_.store(wanted);
        }
    }
    status_.store(value);
    if ((value & STATUS_DRIVER_OK) && !active_) activate_locked();
}

void VirtioPciDevice::write_driver_features_locked(unsigned word, uint32_t value) {
    if (word > 1 || (status_.load() & STATUS_FEATURES_OK)) return;
    driver_features_[word] = value;
}

uint16_t VirtioPciDevice::checked_vector(uint16_t vector) const {
    return msix_ && vector < msix_->vectors() ? vector : NO_VECTOR;
}

void VirtioPciDevice::select_queue_locked(uint32_t index) {
    if (index < QUEUE_MAX) queue_select_ = uint16_t(index);
}

// A notification that reached the BAR handler instead of an ioeventfd
// (not registered, or a write the ioeventfd does not match).
void VirtioPciDevice::notify_queue(uint32_t index) {
    if (!active_ || index >= notify_fds_.size() || !virtqueues_[index]) return;
    uint64_t one = 1;
    if (::write(notify_fds_[index], &one, sizeof one) < 0) spdlog::warn("virtio-pci: queue notify eventfd write failed");
}

uint8_t VirtioPciDevice::read_isr() {
    uint8_t value = isr_.exchange(0);
    set_irq_level(false);
    // A device thread may have set a bit between the exchange and lowering the line.
    if (isr_.load() != 0 && !(msix_ && msix_->enabled())) set_irq_level(true);
    return value;
}

// --- Activation and reset ---

void VirtioPciDevice::activate_locked() {
    uint64_t features = negotiated_.load();
    VirtioActivation activation{context_.memory, features, {}};
    virtqueues_.assign(queues_.size(), nullptr);
    try {
        for (unsigned i = 0; i < queues_.size(); ++i) {
            const Queue& q = queues_[i];
            if (!q.enabled || q.size == 0) continue;
            VirtqueueLayout layout;
            layout.size = q.size;
            layout.desc = q.desc;
            layout.avail = q.driver;
            layout.used = q.device;
            layout.event_idx = (features >> F_RING_EVENT_IDX) & 1;
            layout.indirect = (features >> F_RING_INDIRECT_DESC) & 1;
            virtqueues_[i] = make_queue_locked(i, layout);
            int call_fd = msix_ && msix_->enabled() ? msix_->irqfd(queue_vectors_[i].load()) : -1;
            activation.queues.push_back(
                {virtqueues_[i].get(), notify_fds_[i], [this, i] { queue_interrupt(i); }, call_fd, i});
        }
    } catch (const std::exception& e) {
        spdlog::warn("virtio-pci: cannot set up the driver's queues: {}", e.what());
        virtqueues_.assign(queues_.size(), nullptr);
        needs_reset();
        return;
    }
    active_ = true;
    sync_ioeventfds_locked();
    device_->activate(std::move(activation));
}

std::shared_ptr<Virtqueue> VirtioPciDevice::make_queue_locked(unsigned index, const VirtqueueLayout& layout) {
    if (context_.make_queue) return context_.make_queue(context_.memory, layout);
    auto name = fmt::format("virtio-pci 0000:00:{:02x}.{} queue {}", slot(), function(), index);
    return std::make_shared<Virtqueue>(context_.memory, layout, std::move(name));
}

void VirtioPciDevice::reset_transport_locked() {
    device_->reset();  // before the queues it serves go away
    clear_state_locked();
}

void VirtioPciDevice::clear_state_locked() {
    active_ = false;
    sync_ioeventfds_locked();
    virtqueues_.clear();
    status_.store(0);
    isr_.store(0);
    negotiated_.store(0);
    device_feature_select_ = driver_feature_select_ = 0;
    driver_features_[0] = driver_features_[1] = 0;
    queue_select_ = 0;
    config_vector_.store(NO_VECTOR);
    for (unsigned i = 0; i < queues_.size(); ++i) {
        queues_[i] = Queue{device_->max_queue_size()};
        queue_vectors_[i].store(NO_VECTOR);
        uint64_t stale;  // notifications from before the reset
        while (::read(notify_fds_[i], &stale, sizeof stale) > 0) {
        }
    }
    set_irq_level(false);
}

// --- ioeventfds ---

std::vector<NotifyEventFd> VirtioPciDevice::wanted_ioeventfds_locked() const {
    std::vector<NotifyEventFd> wanted;
    if (!active_) return wanted;
    for (unsigned i = 0; i < virtqueues_.size(); ++i) {
        if (!virtqueues_[i]) continue;
        int fd = notify_fds_[i];
        if (modern_base_)
            wanted.push_back({fd, false, *modern_base_ + NOTIFY_OFFSET + uint64_t(i) * NOTIFY_MULTIPLIER, 0, {}});
        if (legacy_base_) wanted.push_back({fd, true, *legacy_base_ + LEGACY_QUEUE_NOTIFY, 2, uint64_t(i)});
    }
    return wanted;
}

void VirtioPciDevice::sync_ioeventfds_locked() {
    auto wanted = wanted_ioeventfds_locked();
    auto is_wanted = [&](const NotifyEventFd& e) { return std::find(wanted.begin(), wanted.end(), e) != wanted.end(); };
    std::erase_if(registered_, [&](const NotifyEventFd& e) {
        if (is_wanted(e)) return false;
        context_.plumbing->remove_ioeventfd(e);
        return true;
    });
    for (const auto& e : wanted) {
        if (std::find(registered_.begin(), registered_.end(), e) != registered_.end()) continue;
        if (context_.plumbing->add_ioeventfd(e)) registered_.push_back(e);
    }
}

// --- Interrupts (any thread, no config mutex) ---

void VirtioPciDevice::queue_interrupt(unsigned index) { raise(ISR_QUEUE, queue_vectors_[index].load()); }

// As QEMU: the generation moves on every change; the interrupt (ISR bits
// 0 and 1) only once the driver is running.
void VirtioPciDevice::config_interrupt() {
    generation_.fetch_add(1);
    if (status_.load() & STATUS_DRIVER_OK) raise(ISR_QUEUE | ISR_CONFIG, config_vector_.load());
}

void VirtioPciDevice::raise(uint8_t isr_bits, uint16_t vector) {
    isr_.fetch_or(isr_bits);
    if (msix_ && msix_->enabled()) {
        if (vector != NO_VECTOR) msix_->notify(vector);
    } else {
        set_irq_level(true);
    }
}

// Legacy drivers have no NEEDS_RESET bit (§2.1.2); they only lose the device.
void VirtioPciDevice::needs_reset() {
    if (!((negotiated_.load() >> F_VERSION_1) & 1)) return;
    status_.fetch_or(STATUS_NEEDS_RESET);
    config_interrupt();
}

} // namespace kestrel
