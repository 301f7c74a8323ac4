#pragma once
// The pc's BIOS in guest memory, for firmware boot: the image mapped
// read-only just below 4 GiB (the reset vector is its last 16 bytes), and
// 0xc0000-0xfffff routed as the i440FX's PAM registers say, with QEMU's
// pc meanings: per segment either the "PCI" view (the BIOS's last 128 KiB
// at the top, zeros below: QEMU's isa-bios and pc.rom, read-only), RAM
// read-only, or RAM. Each routing is a set of KVM memory slots, so the
// guest runs from the ROM and from its shadow without exits; writes to a
// read-only view exit and are dropped.
#include "kvm/guest_memory.h"

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

namespace kestrel {

class Vm;

class PamMemory {
public:
    // Segment 0 is 0xf0000-0xfffff (PAM0's high nibble), segments 1-12
    // the 16 KiB pieces from 0xc0000 (PAM1 low nibble .. PAM6 high).
    static constexpr unsigned SEGMENTS = 13;
    static constexpr uint64_t START = 0xc0000, END = 0x100000;
    static constexpr uint64_t ISA_BIOS_MAX = 128 * 1024;
    // A segment's two PAM bits: bit 0 read enable, bit 1 write enable.
    // 0: the PCI view; 1: RAM, read-only; 2 and 3: RAM (QEMU's pc maps
    // write-only as RAM too).
    using Modes = std::array<uint8_t, SEGMENTS>;

    static uint64_t segment_start(unsigned segment) {
        return segment == 0 ? 0xf0000 : START + (segment - 1) * 0x4000;
    }
    static uint64_t segment_size(unsigned segment) { return segment == 0 ? 0x10000 : 0x4000; }

    // `bios`: the firmware image (a multiple of 64 KiB, at most 16 MiB;
    // checked by the caller). Maps it and the power-on routing (all PCI).
    // Throws std::runtime_error when KVM refuses a slot.
    PamMemory(Vm& vm, const GuestMemory& memory, std::span<const uint8_t> bios);
    ~PamMemory();
    PamMemory(const PamMemory&) = delete;
    PamMemory& operator=(const PamMemory&) = delete;

    // Routes every segment as `modes` says (only the low two bits count).
    // Thread-safe; cheap when nothing changes.
    void set_modes(const Modes& modes);
    Modes modes() const;
    uint64_t bios_size() const { return bios_size_; }

    struct Slot {
        uint64_t gpa;
        uint64_t size;
        uint8_t* host;
        bool read_only;
        bool operator==(const Slot&) const = default;
    };
    // 0xc0000-0xfffff as PCI sees it: zeros below `isa_start`, then the
    // BIOS's last bytes (isa-bios: the same pages as the top of the BIOS).
    struct RomView {
        uint8_t* low;
        uint8_t* isa;
        uint64_t isa_start;
        uint8_t* host(uint64_t gpa) const { return gpa >= isa_start ? isa + (gpa - isa_start) : low + (gpa - START); }
    };
    // The slots a routing needs, adjacent ones merged; RAM comes from `memory`.
    static std::vector<Slot> layout(const Modes& modes, const RomView& rom, const GuestMemory& memory);

private:
    void apply_locked(const std::vector<Slot>& wanted);

    Vm& vm_;
    const GuestMemory& memory_;
    uint64_t bios_size_;
    uint8_t* bios_ = nullptr;  // the image, page aligned
    RomView rom_{};            // rom_.low: its own zero pages
    std::optional<uint32_t> high_slot_;
    mutable std::mutex lock_;
    Modes modes_{};
    std::vector<std::pair<Slot, uint32_t>> mapped_;  // slot -> KVM slot number
};

} // namespace kestrel
