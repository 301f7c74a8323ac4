#pragma once
// One PCI Base Address Register: what it decodes (kind, size) and where its
// handler currently sits on the port-I/O or MMIO bus.
#include "devices/bus.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace kestrel {

enum class BarKind { Io, Mem32, Mem64 };

struct BarSpec {
    uint64_t size = 0;  // power of two; at least 4 (I/O) or 16 (memory)
    BarKind kind = BarKind::Mem32;
    bool prefetchable = false;  // memory BARs only
    // Receives accesses relative to the BAR's base. May be null when the
    // device maps the range itself (RAM-backed BARs, ioeventfds) from
    // PciDevice::bar_moved().
    std::shared_ptr<BusDevice> handler;
    std::string name;  // the region's name in "info mtree"
};

// Read-only low bits of the BAR's (first) register.
uint32_t bar_flag_bits(const BarSpec& spec);
// Writable address bits over the BAR's 64 (Mem64) or 32 bits.
uint64_t bar_address_mask(const BarSpec& spec);
// The address the guest programmed, if the BAR should decode it: the
// command register enables its space and the range is a sane one (not 0,
// not wrapping, I/O below 64 KiB, Mem32 below 4 GiB). `raw` holds the
// register value(s), the upper dword in bits 63:32 for Mem64.
std::optional<uint64_t> bar_decoded_address(const BarSpec& spec, uint64_t raw, uint16_t command);

// The bus placement of one BAR's handler.
class BarMapping {
public:
    explicit BarMapping(BarSpec spec) : spec_(std::move(spec)) {}

    const BarSpec& spec() const { return spec_; }
    std::optional<uint64_t> mapped_at() const { return mapped_at_; }
    // Whether the last move_to could not place the handler (address in use).
    bool pending() const { return desired_ != mapped_at_; }
    std::optional<uint64_t> desired() const { return desired_; }

    // Unmaps from the old address and maps at `target` on `bus`. With no bus
    // yet (device not attached) or the range in use, the BAR stays pending
    // and a later move_to with the same target retries. A BAR without a
    // handler only records the address. Returns true when the mapped address
    // changed.
    bool move_to(std::optional<uint64_t> target, Bus* bus);

private:
    BarSpec spec_;
    std::optional<uint64_t> mapped_at_;
    std::optional<uint64_t> desired_;
};

} // namespace kestrel
