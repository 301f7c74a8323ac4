#pragma once
// Memory a device gives the guest to use without exits, and write-mostly
// windows whose writes need not exit one by one. VRAM is the example: its
// linear framebuffer is a KVM memory slot with dirty logging, so the
// display redraws only the pages the guest wrote; the legacy VGA window
// stays MMIO but its writes are coalesced. The machine implements it on the
// KVM VM; unit tests fake it.
#include <cstdint>
#include <optional>
#include <span>

namespace kestrel {

class DeviceMemory {
public:
    static constexpr uint64_t kPageSize = 4096;

    virtual ~DeviceMemory() = default;
    // Maps `size` bytes at `host` into guest memory at `gpa` (page aligned,
    // not overlapping RAM or another mapping). Returns a handle, or nullopt
    // if the hypervisor refused (the device then serves the range as MMIO).
    virtual std::optional<uint32_t> map(uint64_t gpa, uint64_t size, uint8_t* host, bool log_dirty) = 0;
    // Maps `size` bytes at `host` read-only (an option ROM): reads come from
    // memory, writes exit to the MMIO bus. Nullopt where unsupported.
    virtual std::optional<uint32_t> map_read_only(uint64_t gpa, uint64_t size, const uint8_t* host) {
        (void)gpa, (void)size, (void)host;
        return std::nullopt;
    }
    virtual void unmap(uint32_t handle) = 0;
    // Sets bit i of `bitmap` (64 pages a word) for every page of the mapping
    // the guest wrote since the last call. False if it cannot tell (the
    // caller then treats every page as written).
    virtual bool take_dirty(uint32_t handle, std::span<uint64_t> bitmap) = 0;

    // Guest writes to [gpa, gpa+size) are queued instead of exiting, and
    // reach the MMIO bus in order before the next exit of any vCPU or at
    // flush_coalesced(). False if unsupported (every write then exits).
    virtual bool add_coalesced(uint64_t gpa, uint64_t size) = 0;
    virtual void remove_coalesced(uint64_t gpa, uint64_t size) = 0;
    // The same for writes to I/O ports [port, port+size), on the I/O port bus.
    virtual bool add_coalesced_pio(uint16_t port, uint16_t size) {
        (void)port, (void)size;
        return false;
    }
    // Delivers the queued writes now (a display about to read its memory).
    virtual void flush_coalesced() = 0;
};

} // namespace kestrel
