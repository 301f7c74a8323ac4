#pragma once
// A PCI function. Its configuration space is an array of bytes with a write
// mask and a write-1-to-clear mask per byte; guest writes go through the
// masks, then BAR and command changes re-place the BAR handlers on the
// port-I/O or MMIO bus, then the device's config_written() hook runs.
//
// Devices derive from this, describe themselves in their constructor
// (set_ids, add_bar, add_capability, set_interrupt_pin, masks), and are
// plugged into a PciBus. The configuration at the time they are plugged in
// (or first written, if never plugged in) is their power-on state: reset()
// returns to it.
//
// Locking: one recursive mutex per function guards the config array and
// BARs; hooks run with it held (they may use the protected accessors and
// public getters freely). The INTx pin has its own lock so device threads
// can raise it without touching config space.
#include "devices/pci/pci_bar.h"
#include "devices/pci/pci_regs.h"
#include "devices/pci/pci_rom.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace kestrel {

struct PciIds {
    uint16_t vendor = 0;
    uint16_t device = 0;
    uint8_t revision = 0;
    uint32_t class_code = 0;  // base class << 16 | subclass << 8 | programming interface
    uint16_t subsystem_vendor = pci::SUBSYSTEM_VENDOR_QEMU;
    uint16_t subsystem = pci::SUBSYSTEM_QEMU;
};

// What a PciBus gives a function when it is plugged in.
struct PciAttachment {
    Bus* pio = nullptr;
    Bus* mmio = nullptr;
    unsigned slot = 0;
    unsigned function = 0;
    // Drives the function's INTx pin (pin as in INTERRUPT_PIN: 1 = INTA).
    std::function<void(uint8_t pin, bool level)> set_intx;
};

class PciDevice {
public:
    explicit PciDevice(uint16_t config_size = pci::CONFIG_SPACE_SIZE);
    virtual ~PciDevice();
    PciDevice(const PciDevice&) = delete;
    PciDevice& operator=(const PciDevice&) = delete;

    // Guest configuration accesses of 1, 2 or 4 bytes (little-endian).
    // Bytes beyond the config space read as ones and ignore writes.
    uint32_t config_read(uint16_t offset, unsigned len);
    void config_write(uint16_t offset, unsigned len, uint32_t value);

    // Level of the INTx pin; any thread. The interrupt status bit follows it;
    // the bus sees it unless the command register's INTx Disable is set.
    void set_irq_level(bool asserted);
    bool irq_level() const;

    // Power-on configuration back, BARs placed accordingly (unmapped for a
    // command register of 0), INTx low. Overrides call this first.
    virtual void reset();

    // Called by PciBus::add_device.
    void attach(PciAttachment attachment);
    // Called by PciBus::remove_device (hot unplug): every BAR and the ROM
    // unmapped (bar_moved tells the device), INTx low, no bus any more.
    void detach();
    // Retries BARs whose range was taken when the guest placed them.
    void retry_pending_bars();

    uint16_t config_size() const { return uint16_t(config_.size()); }
    // Where BAR `index` decodes now; nullopt if it is not mapped.
    std::optional<uint64_t> bar_address(unsigned index) const;
    // What BAR `index` is (kind, size); nullopt if the device has none there.
    std::optional<BarSpec> bar_spec(unsigned index) const;
    // The expansion ROM BAR (offset 0x30): where it decodes now, and its size
    // (0: the function has none).
    std::optional<uint64_t> rom_address() const;
    uint64_t rom_size() const;
    // Gives the function an expansion ROM BAR holding `image` (QEMU's
    // pci_register_bar for PCI_ROM_SLOT): the address bits above the size
    // and the enable bit are writable; it decodes while enabled, memory
    // space is on and the address is sane. `moved` runs (config lock held)
    // whenever the decoded address changes; `patch_ids` asks for the ROM's
    // device ID to be made the function's on first use.
    void add_rom(std::shared_ptr<PciRomImage> image, std::string name, bool patch_ids,
                 std::function<void(std::optional<uint64_t> base)> moved = {});
    uint8_t interrupt_pin() const { return intx_pin_; }
    bool attached() const;
    unsigned slot() const;
    unsigned function() const;

protected:
    // --- Description, for constructors ---
    void set_ids(const PciIds& ids);
    void set_header_type(uint8_t type);
    void set_interrupt_pin(uint8_t pin);
    // Registers BAR `index` (0-5; a Mem64 BAR also takes index+1). Throws
    // std::invalid_argument for a size that is not a power of two or too
    // small, an index in use, or a Mem64 BAR at index 5.
    // `name` is the region's name in "info mtree".
    void add_bar(unsigned index, uint64_t size, BarKind kind, bool prefetchable,
                 std::shared_ptr<BusDevice> handler, std::string name = {});
    // Appends a capability of `length` bytes (including the ID and next
    // bytes) to the list: at `at` (4-aligned, past the header) or after the
    // previous one. Its bytes start read-only; use set_write_mask for
    // writable fields. Returns its offset. Throws std::length_error if it
    // does not fit.
    uint16_t add_capability(uint8_t id, uint8_t length, std::optional<uint16_t> at = std::nullopt);

    // --- Raw access to the device's own config bytes (no masks) ---
    uint8_t cfg8(uint16_t offset) const;
    uint16_t cfg16(uint16_t offset) const;
    uint32_t cfg32(uint16_t offset) const;
    void set_cfg8(uint16_t offset, uint8_t value);
    void set_cfg16(uint16_t offset, uint16_t value);
    void set_cfg32(uint16_t offset, uint32_t value);
    void set_write_mask(uint16_t offset, unsigned len, uint32_t mask);
    void set_w1c_mask(uint16_t offset, unsigned len, uint32_t mask);
    std::recursive_mutex& config_mutex() const { return config_lock_; }

    // --- Hooks ---
    // After a guest write has been applied (and BARs re-placed).
    virtual void config_written(uint16_t offset, unsigned len) { (void)offset, (void)len; }
    // Before a guest read; a device may refresh bytes it computes.
    virtual void config_will_read(uint16_t offset, unsigned len) { (void)offset, (void)len; }
    // After BAR `index` moved (nullopt = not mapped). Devices with a null
    // handler map the range themselves here; others may re-register
    // ioeventfds.
    virtual void bar_moved(unsigned index, std::optional<uint64_t> old_base,
                           std::optional<uint64_t> new_base) {
        (void)index, (void)old_base, (void)new_base;
    }

private:
    void init_default_masks();
    void capture_power_on_locked();
    void apply_command_locked();
    void place_bars_locked();
    uint64_t bar_raw_locked(unsigned index) const;
    Bus* bus_for(BarKind kind) const;
    void deliver_intx_locked();

    mutable std::recursive_mutex config_lock_;
    std::vector<uint8_t> config_;
    std::vector<uint8_t> write_mask_;
    std::vector<uint8_t> w1c_mask_;
    std::vector<uint8_t> power_on_;
    std::array<std::optional<BarMapping>, pci::BAR_COUNT> bars_;
    struct Rom {
        BarMapping mapping;
        std::shared_ptr<PciRomImage> image;
        bool patch_ids;
        std::function<void(std::optional<uint64_t>)> moved;
    };
    void place_rom_locked();
    std::optional<Rom> rom_;
    std::vector<std::pair<uint16_t, uint16_t>> caps_;  // offset, length
    uint16_t next_cap_ = pci::CONFIG_HEADER_SIZE;
    uint16_t last_cap_ = 0;
    PciAttachment attachment_;
    bool attached_ = false;

    mutable std::mutex intx_lock_;
    uint8_t intx_pin_ = pci::PIN_NONE;
    bool intx_level_ = false;
    bool intx_disabled_ = false;
    bool intx_delivered_ = false;
};

} // namespace kestrel
