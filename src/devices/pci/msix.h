#pragma once
// MSI-X (PCI Local Bus Specification 3.0 §6.8.2): the table of message
// address/data/vector-control entries and the Pending Bit Array, both in one
// memory BAR, plus the Enable and Function Mask bits of the capability's
// Message Control word.
//
// A PciDevice with MSI-X adds the capability itself and forwards to this
// class (its description helpers are protected):
//     uint16_t cap = add_capability(pci::CAP_ID_MSIX, Msix::CAP_LENGTH, at);
//     set_cfg16(cap + Msix::CAP_CONTROL, msix->initial_control());
//     set_cfg32(cap + Msix::CAP_TABLE, msix->table_register());
//     set_cfg32(cap + Msix::CAP_PBA, msix->pba_register());
//     set_write_mask(cap + Msix::CAP_CONTROL, 2, Msix::CONTROL_WRITE_MASK);
//     add_bar(layout.bar, layout.bar_size, BarKind::Mem32, false, msix);
// and calls control_written(cfg16(cap + CAP_CONTROL)) from config_written()
// when the control word changed, and reset() from its reset().
//
// Threads: vCPUs access the table and config space, device threads call
// notify(); one mutex guards the state. The sink is called with it held.
#include "devices/bus_device.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace kestrel {

struct MsiMessage {
    uint64_t address = 0;
    uint32_t data = 0;
    bool operator==(const MsiMessage&) const = default;
};

// Where MSI-X messages go: KVM routes and irqfds in the VMM, a recorder in
// unit tests.
class MsiSink {
public:
    virtual ~MsiSink() = default;
    // Deliver `vector`'s message now.
    virtual void send(unsigned vector, const MsiMessage& message) = 0;
    // `vector` became deliverable (unmasked) with this message, or its
    // message changed while deliverable: a chance to set up routes before
    // the first send().
    virtual void prepare(unsigned vector, const MsiMessage& message) { (void)vector, (void)message; }
    // An eventfd whose writes deliver `vector`'s message in the kernel
    // (KVM's irqfd), or -1 where the sink has none.
    virtual int irqfd(unsigned vector, const MsiMessage& message) { return (void)vector, (void)message, -1; }
};

struct MsixLayout {
    unsigned vectors = 1;         // 1..2048
    uint8_t bar = 1;              // BAR holding both table and PBA
    uint64_t bar_size = 0x1000;
    uint32_t table_offset = 0;    // 8-byte aligned
    uint32_t pba_offset = 0x800;  // 8-byte aligned
};

class Msix : public BusDevice {
public:
    static constexpr uint8_t CAP_LENGTH = 12;
    static constexpr uint16_t CAP_CONTROL = 2;
    static constexpr uint16_t CAP_TABLE = 4;
    static constexpr uint16_t CAP_PBA = 8;
    static constexpr uint16_t CONTROL_ENABLE = 1u << 15;
    static constexpr uint16_t CONTROL_FUNCTION_MASK = 1u << 14;
    static constexpr uint16_t CONTROL_WRITE_MASK = CONTROL_ENABLE | CONTROL_FUNCTION_MASK;
    static constexpr unsigned ENTRY_SIZE = 16;
    static constexpr unsigned ENTRY_ADDR_LO = 0, ENTRY_ADDR_HI = 4, ENTRY_DATA = 8, ENTRY_CONTROL = 12;
    static constexpr uint32_t ENTRY_MASKED = 1u;
    static constexpr unsigned MAX_VECTORS = 2048;

    // Throws std::invalid_argument if the table and PBA do not fit the BAR
    // or overlap.
    Msix(MsixLayout layout, std::shared_ptr<MsiSink> sink);

    // --- Capability registers ---
    uint16_t initial_control() const { return uint16_t(layout_.vectors - 1); }
    uint32_t table_register() const { return layout_.table_offset | layout_.bar; }
    uint32_t pba_register() const { return layout_.pba_offset | layout_.bar; }
    void control_written(uint16_t control);

    // --- Table and PBA (the BAR's handler) ---
    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

    // Signals `vector`: sent if enabled and unmasked, else left pending
    // until it is. Out-of-range vectors are ignored. Any thread.
    void notify(unsigned vector);

    // The sink's eventfd for `vector` while it is deliverable, else -1.
    // Writes to it bypass the mask and pending bits: a user that keeps it
    // must follow masking itself.
    int irqfd(unsigned vector);

    bool enabled() const;
    bool function_masked() const;
    bool masked(unsigned vector) const;
    bool pending(unsigned vector) const;
    MsiMessage message(unsigned vector) const;
    unsigned vectors() const { return layout_.vectors; }
    const MsixLayout& layout() const { return layout_; }

    // Power-on state: disabled, every entry masked with a zero message.
    void reset();

private:
    uint32_t entry_word_locked(unsigned vector, unsigned field) const;
    MsiMessage message_locked(unsigned vector) const;
    bool deliverable_locked(unsigned vector) const;
    bool pending_locked(unsigned vector) const;
    void set_pending_locked(unsigned vector, bool on);
    // After the state that decides deliverability changed.
    void refresh_locked(unsigned vector, bool was_deliverable, const MsiMessage& old_message);
    void reset_locked();

    const MsixLayout layout_;
    const std::shared_ptr<MsiSink> sink_;
    mutable std::mutex lock_;
    std::vector<uint8_t> table_;
    std::vector<uint64_t> pba_;
    bool enabled_ = false;
    bool function_masked_ = false;
};

} // namespace kestrel
