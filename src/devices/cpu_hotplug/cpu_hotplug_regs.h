#pragma once
// QEMU's ACPI CPU hotplug registers (docs/specs/acpi_cpu_hotplug.rst, the
// "modern" interface), at I/O 0xaf00 of the PIIX4 PM function:
//   0x0 write: CPU selector (index of a possible CPU); read: command data 2
//   0x4 read: status of the selected CPU (bit 0 present, 1 insert event,
//       2 remove event, 4 firmware asked to eject); write: bit 1 clears the
//       insert event, 2 the remove event, 3 ejects, 4 hands eject to firmware
//   0x5 write: command (0 next CPU with an event, 1 OST event, 2 OST
//       status, 3 CPU ID)
//   0x8 read: command data (0: the selector, 3: APIC ID); write: OST data
//       (the guest's _OST: its source event, then its status, which QEMU
//       reports at once as ACPI_DEVICE_OST)
// Any access size; a selector that names no possible CPU makes reads 0 and
// other writes ignored. An insert or remove event sets GPE0 status bit 2,
// whose _E02 method (CSCN) notifies the guest's processor objects.
// As in QEMU 7.2's PIIX4 the block starts in the legacy mode: 32 bytes, a
// bitmap of the present CPUs by APIC ID, until the guest writes 0 at offset
// 0 (the DSDT's _INI does); a CPU cannot be unplugged before that.
#include "devices/bus_device.h"
#include "devices/cpu_hotplug_controller.h"

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace kestrel {

struct CpuHotplugSlot {
    uint32_t apic_id = 0;
    bool present = false;
    bool inserting = false;
    bool removing = false;
    bool firmware_remove = false;
    uint32_t ost_event = 0;
    uint32_t ost_status = 0;
};

// The guest-visible state, in one plain struct.
struct CpuHotplugState {
    bool legacy = true;
    uint32_t selector = 0;
    uint8_t command = 0;
    std::vector<CpuHotplugSlot> slots;  // every possible CPU, by index
};

class CpuHotplugRegs final : public BusDevice {
public:
    static constexpr uint16_t BASE = 0xaf00;
    static constexpr uint16_t LENGTH = 32;         // the legacy bitmap's; the modern block is 12
    static constexpr uint16_t MODERN_LENGTH = 12;
    static constexpr unsigned GPE_BIT = 2;
    static constexpr uint16_t SELECTOR = 0x0, FLAGS = 0x4, COMMAND = 0x5, DATA = 0x8;
    enum Command : uint8_t { NEXT_EVENT = 0, OST_EVENT = 1, OST_STATUS = 2, CPU_ID = 3, COMMANDS };

    // `apic_ids`: one per possible CPU. `raise_gpe` sets GPE0 status bit
    // GPE_BIT; `eject` runs (without this object's lock) for a present CPU
    // other than the first one that the guest ejected.
    CpuHotplugRegs(std::vector<uint32_t> apic_ids, std::function<void()> raise_gpe,
                   std::function<void(unsigned index)> eject);
    // Runs (without this object's lock) each time the guest writes an OST
    // status, whether or not a CPU is in the selected slot.
    void on_ost(std::function<void(const CpuOstReport&)> report);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

    // Host side. A CPU present from start-up (no event), one hot-added (an
    // insert event and the GPE), and a removal asked of the guest.
    void set_present(unsigned index);
    void plugged(unsigned index);
    void request_unplug(unsigned index);
    bool unplug_requested(unsigned index) const;
    // False until the guest switched to the modern interface.
    bool unplug_supported() const;
    void on_eject(std::function<void(unsigned index)> eject);
    // Every possible CPU's last OST, by index; none in the legacy mode
    // (QEMU 7.2's piix4_ospm_status leaves the CPUs out then).
    std::vector<CpuOstReport> ospm_status() const;

    CpuHotplugState state() const;

private:
    // What a write asks of the outside once the lock is dropped.
    struct WriteEffect {
        int eject = -1;  // the index to eject, or -1
        std::optional<CpuOstReport> ost;
    };
    uint32_t read_locked(uint64_t offset) const;
    uint8_t legacy_byte_locked(uint64_t offset) const;
    WriteEffect write_locked(uint64_t offset, uint32_t value);
    std::optional<CpuOstReport> write_data_locked(CpuHotplugSlot& slot, uint32_t value);
    CpuOstReport report_locked(unsigned index) const;
    int write_flags_locked(CpuHotplugSlot& slot, uint32_t value);
    void select_next_event_locked();

    std::function<void()> raise_gpe_;
    std::function<void(unsigned)> eject_;
    std::function<void(const CpuOstReport&)> ost_;
    mutable std::mutex lock_;
    CpuHotplugState s_;
};

} // namespace kestrel
