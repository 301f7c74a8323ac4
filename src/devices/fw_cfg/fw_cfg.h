#pragma once
// QEMU's firmware configuration device (fw_cfg) as a table of items and
// files plus the guest's view of it: a selector, an offset into the
// selected item, and the DMA interface. The machine and devices fill the
// table (the pc's items, the boot loaders' kernel items, -fw_cfg files,
// and later SeaBIOS's bootorder, ACPI and SMBIOS tables, option ROMs); the
// guest reads it through the ports of the fw_cfg_io device, which
// registers this object as a service (ServiceRegistry::find<FwCfg>()).
//
// Thread-safe: one lock guards the table and the registers. Callbacks of
// an item run with it held and must not call back into FwCfg.
#include "devices/fw_cfg/fw_cfg_keys.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel {

class GuestMemory;

struct FwCfgItem {
    std::vector<uint8_t> data;
    // Instead of `data`: read-only bytes that stay with their owner (a
    // kernel or initrd image, so fw_cfg does not hold a second copy), which
    // `owner` keeps alive.
    std::shared_ptr<const void> owner;
    std::span<const uint8_t> shared;
    bool writable = false;  // the guest may write `data` through DMA
    // When the guest selects the item, before it reads (QEMU's select
    // callback): may refresh `data` (tables built late).
    std::function<void(std::vector<uint8_t>& data)> on_select;
    // After a guest DMA write into [offset, offset + length) of `data`.
    std::function<void(const std::vector<uint8_t>& data, uint32_t offset, uint32_t length)> on_write;

    std::span<const uint8_t> bytes() const {
        return owner ? shared : std::span<const uint8_t>(data);
    }
    // `bytes`, which belong to `owner`.
    static FwCfgItem share(std::shared_ptr<const void> owner, std::span<const uint8_t> bytes);
};

// The guest-visible state, in one plain struct.
struct FwCfgRegisters {
    static constexpr uint16_t kInvalid = 0xffff;
    uint16_t selector = kInvalid;  // key as written, kInvalid when out of range
    uint32_t offset = 0;           // next byte of the selected item
    uint64_t dma_address = 0;      // the high half, until the low half starts DMA
};

class FwCfg {
public:
    // `memory` is what DMA reads and writes; `file_slots` QEMU's x-file-slots.
    FwCfg(const GuestMemory& memory, uint16_t file_slots, bool dma_enabled);

    // --- The table (machine and devices) ---
    // Sets or replaces the item at `key` (ARCH_LOCAL for x86 items).
    // Throws std::out_of_range for a key past the file slots.
    void set(uint16_t key, FwCfgItem item);
    void set_bytes(uint16_t key, std::vector<uint8_t> data);
    void set_u16(uint16_t key, uint16_t value);
    void set_u32(uint16_t key, uint32_t value);
    void set_u64(uint16_t key, uint64_t value);
    void set_string(uint16_t key, std::string_view text);  // with its NUL, as QEMU
    void remove(uint16_t key);
    // Adds a file; files keep their directory sorted by name and their keys
    // follow that order (as QEMU's pc). Returns its key. Throws
    // std::runtime_error "duplicate fw_cfg file name: NAME", or when the
    // name is too long or the file slots are full.
    uint16_t add_file(std::string_view name, FwCfgItem item);
    uint16_t add_file(std::string_view name, std::vector<uint8_t> data);
    // Replaces a file's item, or adds it.
    uint16_t set_file(std::string_view name, FwCfgItem item);
    std::optional<uint16_t> file_key(std::string_view name) const;
    std::vector<std::string> file_names() const;
    // A copy of an item's bytes (empty if there is none); for monitors and tests.
    std::vector<uint8_t> item_data(uint16_t key) const;
    uint16_t file_slots() const { return file_slots_; }
    bool dma_enabled() const { return dma_enabled_; }

    // --- The guest's side (the device's ports) ---
    void select(uint16_t key);
    // `size` bytes of the selected item from the current offset, the first
    // byte most significant (QEMU's data port); zeros past the end.
    uint64_t read_data(unsigned size);
    // DMA address writes, already converted from the port's big-endian.
    void write_dma_high(uint32_t high);
    void write_dma_low(uint32_t low);  // runs the transfer
    FwCfgRegisters registers() const;
    void reset();

private:
    struct File {
        std::string name;
        FwCfgItem item;
    };
    const FwCfgItem* item_locked(uint16_t key) const;  // nullptr: no item there
    FwCfgItem* item_locked(uint16_t key);
    bool zero_guest(uint64_t address, uint32_t length) const;
    void select_locked(uint16_t key);
    void rebuild_directory_locked();
    uint16_t insert_file_locked(std::string_view name, FwCfgItem item);
    void run_dma_locked(uint64_t address);
    uint32_t transfer_locked(uint32_t control, uint32_t length, uint64_t address);

    const GuestMemory& memory_;
    const uint16_t file_slots_;
    const bool dma_enabled_;
    mutable std::mutex lock_;
    // Keys below FILE_FIRST: [arch local][key & ENTRY_MASK]. Files take the
    // keys from FILE_FIRST on in name order.
    std::vector<std::optional<FwCfgItem>> items_[2];
    std::vector<File> files_;
    FwCfgRegisters regs_;
};

} // namespace kestrel
