// VirtioPciDevice: PCI description (IDs, BARs, capabilities), the PCI
// hooks, and the lifetime of the notify eventfds.
#include "virtio/pci/virtio_pci_device.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel {

using namespace virtio_pci;

namespace {

bool overlaps(uint16_t a, unsigned alen, uint16_t b, unsigned blen) { return a < b + blen && b < a + alen; }

// The device IDs of legacy virtio (§4.1.2.3), which transitional devices keep.
std::optional<uint16_t> legacy_device_id(uint16_t type) {
    switch (type) {
    case 1: return 0x1000;  // net
    case 2: return 0x1001;  // block
    case 5: return 0x1002;  // balloon
    case 3: return 0x1003;  // console
    case 8: return 0x1004;  // SCSI host
    case 4: return 0x1005;  // entropy
    case 9: return 0x1009;  // 9P transport
    default: return std::nullopt;
    }
}

class ModernBar : public BusDevice {
public:
    explicit ModernBar(VirtioPciDevice& dev) : dev_(dev) {}
    void read(uint64_t offset, std::span<uint8_t> data) override { dev_.modern_read(offset, data); }
    void write(uint64_t offset, std::span<const uint8_t> data) override { dev_.modern_write(offset, data); }

private:
    VirtioPciDevice& dev_;
};

class LegacyBar : public BusDevice {
public:
    explicit LegacyBar(VirtioPciDevice& dev) : dev_(dev) {}
    void read(uint64_t offset, std::span<uint8_t> data) override { dev_.legacy_read(offset, data); }
    void write(uint64_t offset, std::span<const uint8_t> data) override { dev_.legacy_write(offset, data); }

private:
    VirtioPciDevice& dev_;
};

} // namespace

VirtioPciDevice::VirtioPciDevice(std::shared_ptr<VirtioDevice> device, VirtioPciContext context,
                                 VirtioPciOptions options)
    : device_(std::move(device)), context_(std::move(context)), options_(options) {
    unsigned n = device_->num_queues();
    if (n == 0 || n > QUEUE_MAX) throw std::invalid_argument("virtio device with an unsupported number of queues");
    queues_.resize(n);
    queue_vectors_ = std::make_unique<std::atomic<uint16_t>[]>(n);
    for (unsigned i = 0; i < n; ++i) {
        UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!fd) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
        notify_fds_.push_back(std::move(fd));
    }
    clear_state_locked();
    describe();
    device_->on_needs_reset = [this] { needs_reset(); };
    device_->on_config_changed = [this] { config_interrupt(); };
}

// IDs, pin, BARs and capabilities, laid out as QEMU does.
void VirtioPciDevice::describe() {
    describe_ids();
    set_interrupt_pin(pci::PIN_INTA);
    if (options_.transitional && legacy_device_id(device_->device_type())) {
        uint16_t header = options_.msix_vectors ? LEGACY_CONFIG_MSIX : LEGACY_CONFIG;
        add_bar(LEGACY_BAR, std::bit_ceil(uint64_t(header) + options_.config_size), BarKind::Io, false,
                std::make_shared<LegacyBar>(*this), "virtio-pci");
    }
    if (options_.msix_vectors) {
        MsixLayout layout{options_.msix_vectors, MSIX_BAR, MSIX_BAR_SIZE, MSIX_TABLE_OFFSET, MSIX_PBA_OFFSET};
        msix_ = std::make_shared<Msix>(layout, context_.plumbing->make_msi_sink(options_.msix_vectors));
        add_bar(MSIX_BAR, MSIX_BAR_SIZE, BarKind::Mem32, false, msix_, options_.name + "-msix");
        add_msix_cap();
    }
    if (!options_.modern) return;  // legacy only: drivers find no virtio 1.x structures
    add_bar(MODERN_BAR, MODERN_BAR_SIZE, BarKind::Mem64, true, std::make_shared<ModernBar>(*this), "virtio-pci");
    add_virtio_caps();
}

// No VirtioDevice::reset() here: it may wait for an event loop that has
// already stopped at teardown (see the header).
VirtioPciDevice::~VirtioPciDevice() {
    // Before the queues and notify fds go: the device may outlive this
    // transport (other owners), and still be serving them.
    device_->release_queues();
    std::lock_guard guard(config_mutex());
    active_ = false;
    sync_ioeventfds_locked();
    device_->on_needs_reset = nullptr;
    device_->on_config_changed = nullptr;
    notify_fds_.clear();  // closed with the ioeventfds gone, under the lock
}

void VirtioPciDevice::describe_ids() {
    uint16_t type = device_->device_type();
    auto legacy = options_.transitional ? legacy_device_id(type) : std::nullopt;
    PciIds ids;
    ids.vendor = VENDOR_ID;
    ids.class_code = options_.class_code;
    if (legacy) {
        ids.device = *legacy;
        ids.revision = 0;
        ids.subsystem = type;  // legacy drivers match on it
    } else {
        ids.device = uint16_t(MODERN_DEVICE_ID_BASE + type);
        ids.revision = 1;
    }
    set_ids(ids);
}

void VirtioPciDevice::add_msix_cap() {
    msix_cap_ = add_capability(pci::CAP_ID_MSIX, Msix::CAP_LENGTH, CAP_AT_MSIX);
    set_cfg16(msix_cap_ + Msix::CAP_CONTROL, msix_->initial_control());
    set_cfg32(msix_cap_ + Msix::CAP_TABLE, msix_->table_register());
    set_cfg32(msix_cap_ + Msix::CAP_PBA, msix_->pba_register());
    set_write_mask(msix_cap_ + Msix::CAP_CONTROL, 2, Msix::CONTROL_WRITE_MASK);
}

// In QEMU's order: each new capability goes to the head of its list, so
// the list runs from the highest offset down to the common config.
void VirtioPciDevice::add_virtio_caps() {
    add_vendor_cap(CAP_AT_PCI_CFG, PCI_CFG_CAP_SIZE, CAP_PCI_CFG, 0, 0, 0);
    set_write_mask(CAP_AT_PCI_CFG + CAP_BAR, 1, 0xff);
    set_write_mask(CAP_AT_PCI_CFG + CAP_OFFSET, 4, 0xffffffff);
    set_write_mask(CAP_AT_PCI_CFG + CAP_LENGTH, 4, 0xffffffff);
    set_write_mask(CAP_AT_PCI_CFG + CAP_PCI_CFG_DATA, 4, 0xffffffff);
    add_vendor_cap(CAP_AT_NOTIFY, NOTIFY_CAP_SIZE, CAP_NOTIFY_CFG, MODERN_BAR, NOTIFY_OFFSET, REGION_SIZE);
    set_cfg32(CAP_AT_NOTIFY + CAP_NOTIFY_MULTIPLIER, NOTIFY_MULTIPLIER);
    add_vendor_cap(CAP_AT_DEVICE, CAP_SIZE, CAP_DEVICE_CFG, MODERN_BAR, DEVICE_OFFSET, REGION_SIZE);
    add_vendor_cap(CAP_AT_ISR, CAP_SIZE, CAP_ISR_CFG, MODERN_BAR, ISR_OFFSET, REGION_SIZE);
    add_vendor_cap(CAP_AT_COMMON, CAP_SIZE, CAP_COMMON_CFG, MODERN_BAR, COMMON_OFFSET, REGION_SIZE);
}

void VirtioPciDevice::add_vendor_cap(uint16_t at, uint8_t length, uint8_t cfg_type, uint8_t bar, uint32_t offset,
                                     uint32_t size) {
    add_capability(pci::CAP_ID_VENDOR, length, at);
    set_cfg8(at + CAP_LEN, length);
    set_cfg8(at + CAP_CFG_TYPE, cfg_type);
    set_cfg8(at + CAP_BAR, bar);
    set_cfg32(at + CAP_OFFSET, offset);
    set_cfg32(at + CAP_LENGTH, size);
}

// --- PCI hooks (config mutex held) ---

void VirtioPciDevice::config_written(uint16_t offset, unsigned len) {
    if (msix_ && overlaps(offset, len, msix_cap_ + Msix::CAP_CONTROL, 2)) {
        msix_->control_written(cfg16(msix_cap_ + Msix::CAP_CONTROL));
        if (msix_->enabled()) set_irq_level(false);  // INTx is unused while MSI-X is on
    }
    if (overlaps(offset, len, CAP_AT_PCI_CFG + CAP_PCI_CFG_DATA, 4)) pci_cfg_access_locked(true);
}

void VirtioPciDevice::config_will_read(uint16_t offset, unsigned len) {
    if (overlaps(offset, len, CAP_AT_PCI_CFG + CAP_PCI_CFG_DATA, 4)) pci_cfg_access_locked(false);
}

void VirtioPciDevice::bar_moved(unsigned index, std::optional<uint64_t>, std::optional<uint64_t> new_base) {
    if (index == MODERN_BAR) modern_base_ = new_base;
    if (index == LEGACY_BAR) legacy_base_ = new_base;
    sync_ioeventfds_locked();
}

void VirtioPciDevice::reset() {
    std::lock_guard guard(config_mutex());
    PciDevice::reset();
    if (msix_) msix_->reset();
    reset_transport_locked();
}

} // namespace kestrel
