#pragma once
// The virtio PCI transport (VIRTIO 1.2 §4.1) around any VirtioDevice, laid
// out as QEMU's virtio-*-pci: BAR 0 the transitional legacy I/O registers,
// BAR 1 the MSI-X table and PBA, BAR 4 the modern common/ISR/device/notify
// structures, and vendor capabilities pointing at them (plus the PCI
// configuration access capability).
//
// Queue notifications reach the device on one eventfd per queue, registered
// as ioeventfd on the modern and legacy notify addresses; interrupts leave
// through MSI-X (irqfd) or INTx with the ISR.
//
// Locking: every register access runs under PciDevice's config mutex
// (BAR handlers take it too), so the transport state is guarded by one
// lock. Device threads raise interrupts and ask for NEEDS_RESET without it
// (atomics, the MSI-X lock and the INTx lock only), so VirtioDevice::reset
// may wait for them while the lock is held.
//
// Lifetime: the BAR handlers (held by the port-I/O and MMIO buses) point
// back at this object, and the device's queue bindings point into it.
// Destroy it after those buses dropped their mappings (Bus::clear) and once
// the VirtioDevice no longer serves its queues (its event loop stopped, or
// after reset()); the destructor does not reset the VirtioDevice itself.
#include "base/unique_fd.h"
#include "devices/pci/msix.h"
#include "devices/pci/pci_device.h"
#include "devices/io_plumbing.h"
#include "virtio/pci/virtio_pci_regs.h"
#include "virtio/virtio_device.h"
#include "virtio/virtqueue.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kestrel {

// Builds the device-side queue for a ring the driver set up (default: a
// Virtqueue named after the PCI address).
using VirtqueueFactory =
    std::function<std::shared_ptr<Virtqueue>(const GuestMemory& memory, const VirtqueueLayout& layout)>;

struct VirtioPciOptions {
    uint32_t class_code = 0xff0000;  // virtio-blk: 0x010000 (SCSI storage)
    unsigned msix_vectors = 2;       // 0: no MSI-X; QEMU's virtio-blk: num-queues + 1
    bool transitional = true;        // legacy I/O BAR and the 0x10xx device ID
    uint32_t config_size = 0;        // bytes of the device's config space
    std::string name = "virtio-pci";  // the PCI device's type: names its MSI-X BAR in info mtree
    bool modern = true;              // the virtio 1.x capabilities and BAR 4 (disable-modern=off)
};

struct VirtioPciContext {
    const GuestMemory& memory;
    std::shared_ptr<IoPlumbing> plumbing;
    VirtqueueFactory make_queue = nullptr;
};

class VirtioPciDevice : public PciDevice {
public:
    VirtioPciDevice(std::shared_ptr<VirtioDevice> device, VirtioPciContext context, VirtioPciOptions options);
    ~VirtioPciDevice() override;

    // Machine reset: the PCI function and the transport to power-on state.
    void reset() override;

    VirtioDevice& device() const { return *device_; }
    uint8_t status() const { return status_.load(); }
    // The eventfd notifications of queue `index` arrive on.
    int notify_fd(unsigned index) const { return index < notify_fds_.size() ? notify_fds_[index].get() : -1; }
    std::shared_ptr<Msix> msix() const { return msix_; }

    // --- BAR handlers (offsets relative to the BAR / structure) ---
    void modern_read(uint64_t offset, std::span<uint8_t> data);
    void modern_write(uint64_t offset, std::span<const uint8_t> data);
    void legacy_read(uint64_t offset, std::span<uint8_t> data);
    void legacy_write(uint64_t offset, std::span<const uint8_t> data);

protected:
    void config_written(uint16_t offset, unsigned len) override;
    void config_will_read(uint16_t offset, unsigned len) override;
    void bar_moved(unsigned index, std::optional<uint64_t> old_base, std::optional<uint64_t> new_base) override;

private:
    struct Queue {
        uint16_t size = 0;
        bool enabled = false;
        uint64_t desc = 0, driver = 0, device = 0;
    };

    // --- Description (virtio_pci_device.cpp) ---
    void describe();
    void describe_ids();
    void add_virtio_caps();
    void add_msix_cap();
    void add_vendor_cap(uint16_t at, uint8_t length, uint8_t cfg_type, uint8_t bar, uint32_t offset, uint32_t size);

    // --- Shared register semantics (virtio_pci_transport.cpp) ---
    void write_status_locked(uint8_t value);
    void write_driver_features_locked(unsigned word, uint32_t value);
    uint16_t checked_vector(uint16_t vector) const;
    void select_queue_locked(uint32_t index);
    void notify_queue(uint32_t index);
    uint8_t read_isr();
    void activate_locked();
    std::shared_ptr<Virtqueue> make_queue_locked(unsigned index, const VirtqueueLayout& layout);
    void reset_transport_locked();
    void clear_state_locked();
    void sync_ioeventfds_locked();
    std::vector<NotifyEventFd> wanted_ioeventfds_locked() const;

    // --- Interrupts (any thread) ---
    void queue_interrupt(unsigned index);
    void config_interrupt();
    void raise(uint8_t isr_bits, uint16_t vector);
    void needs_reset();

    // --- Modern structures (virtio_pci_modern.cpp) ---
    uint32_t common_read_locked(uint16_t offset);
    void common_write_locked(uint16_t offset, uint32_t value);
    uint32_t queue_field_locked(uint16_t offset) const;
    void write_queue_field_locked(uint16_t offset, uint32_t value);
    void device_config_read(uint64_t offset, std::span<uint8_t> data);
    void device_config_write(uint64_t offset, std::span<const uint8_t> data);
    void pci_cfg_access_locked(bool write);

    // --- Legacy registers (virtio_pci_legacy.cpp) ---
    uint32_t legacy_read_reg_locked(uint16_t offset);
    void legacy_write_reg_locked(uint16_t offset, uint32_t value);
    uint16_t legacy_config_offset() const;
    void set_legacy_pfn_locked(uint32_t pfn);

    const std::shared_ptr<VirtioDevice> device_;
    VirtioPciContext context_;
    const VirtioPciOptions options_;
    std::shared_ptr<Msix> msix_;
    uint16_t msix_cap_ = 0;

    // Guarded by config_mutex().
    uint32_t device_feature_select_ = 0;
    uint32_t driver_feature_select_ = 0;
    uint32_t driver_features_[2] = {0, 0};
    uint16_t queue_select_ = 0;
    std::vector<Queue> queues_;
    bool active_ = false;
    std::vector<std::shared_ptr<Virtqueue>> virtqueues_;
    std::vector<NotifyEventFd> registered_;
    std::optional<uint64_t> modern_base_, legacy_base_;

    // Also used by device threads.
    std::atomic<uint8_t> status_{0};
    std::atomic<uint8_t> isr_{0};
    std::atomic<uint8_t> generation_{0};
    std::atomic<uint16_t> config_vector_{virtio_pci::NO_VECTOR};
    std::unique_ptr<std::atomic<uint16_t>[]> queue_vectors_;
    std::atomic<uint64_t> negotiated_{0};
    std::vector<UniqueFd> notify_fds_;
};

} // namespace kestrel
