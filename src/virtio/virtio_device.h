#pragma once
// A virtio device, independent of its transport (VIRTIO 1.2 §2-§4). The
// PCI transport (virtio_pci) owns common config, notifications, ISR and
// MSI-X; the device knows its features, config space and queues.
#include "kvm/guest_memory.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

class Virtqueue;

// What the transport hands the device when the driver sets DRIVER_OK.
struct VirtioQueueBinding {
    Virtqueue* queue;               // set up by the transport from the driver's addresses
    int notify_fd;                  // eventfd the driver's notifications arrive on (ioeventfd)
    // Raises the queue's interrupt (MSI-X vector via irqfd, or INTx + ISR
    // bit 0); thread-safe.
    std::function<void()> interrupt;
    // An eventfd that raises the queue's MSI-X vector in the kernel (its
    // irqfd), for a datapath outside kestrel (vhost); -1 without MSI-X.
    // It bypasses MSI-X masking (see Msix::irqfd).
    int call_fd = -1;
    unsigned index = 0;             // the queue's number (queues the driver left disabled are absent)
};

struct VirtioActivation {
    const GuestMemory& memory;
    uint64_t driver_features;       // negotiated
    std::vector<VirtioQueueBinding> queues;  // only the queues the driver enabled
};

class VirtioDevice {
public:
    virtual ~VirtioDevice() = default;

    virtual uint16_t device_type() const = 0;          // 2 = block, 1 = net, 5 = balloon
    virtual uint64_t device_features() const = 0;      // includes VIRTIO_F_VERSION_1 etc.
    virtual unsigned num_queues() const = 0;
    virtual uint16_t max_queue_size() const = 0;
    // The largest ring queue `index` takes (its size until the driver
    // chooses one), where a device's queues differ (virtio-balloon's).
    virtual uint16_t queue_max_size(unsigned index) const {
        (void)index;
        return max_queue_size();
    }

    // Device-specific configuration space (little-endian fields).
    virtual void read_config(uint64_t offset, std::span<uint8_t> data) = 0;
    virtual void write_config(uint64_t offset, std::span<const uint8_t> data) = 0;

    // DRIVER_OK: start serving the queues. The device may start threads or
    // watch notify_fds on its own event loop.
    virtual void activate(VirtioActivation activation) = 0;
    // Device reset (status written 0) or machine reset: stop serving,
    // forget queue state; must not return while requests touch guest memory.
    virtual void reset() = 0;
    // The transport is going away with the queues and notify fds it lent
    // the device: stop using them now, inline (no event loop may run any
    // more at teardown, so reset() is not for this).
    virtual void release_queues() = 0;

    // Set by the transport: the device asks for NEEDS_RESET (a malformed
    // ring it cannot recover from) and a config-change interrupt.
    std::function<void()> on_needs_reset;
    std::function<void()> on_config_changed;
};

} // namespace kestrel
