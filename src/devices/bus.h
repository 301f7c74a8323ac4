#pragma once
// An address space (port I/O or MMIO) as an interval map from ranges to
// devices. Lookups take a shared lock so vCPU threads dispatch in parallel;
// (re)mapping (PCI BAR moves) takes it exclusively.
#include "devices/bus_device.h"

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace kestrel {

class Bus {
public:
    explicit Bus(std::string name) : name_(std::move(name)) {}

    // Returns false if [base, base+len) overlaps an existing mapping.
    // `name` is the region's name in "info mtree" (QEMU's, e.g. "serial").
    bool insert(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name = {});
    // A mapping over others (QEMU's priority 1): accesses that start inside
    // it go to `dev`. Used where a register sits inside another device's
    // range (PIIX3's reset control at 0xCF9, inside 0xCF8's address
    // register). False if it overlaps another overlay.
    bool insert_overlay(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name);
    // Removes the mapping that starts at base; false if there is none.
    bool remove(uint64_t base);
    // Drops every mapping (machine teardown: devices go before what they use).
    void clear();

    // Returns false if nothing is mapped there (reads then yield all ones).
    bool read(uint64_t addr, std::span<uint8_t> data) const;
    bool write(uint64_t addr, std::span<const uint8_t> data) const;

    const std::string& name() const { return name_; }

    struct Mapping {
        uint64_t base;
        uint64_t len;
        std::shared_ptr<BusDevice> dev;
        std::string name;
        int priority = 0;
    };
    // Every mapping in address order (for the monitor's "info mtree").
    std::vector<Mapping> mappings() const;
    // Changes with every insert, remove and clear: who keeps a copy of
    // mappings() (the device fuzzer, after every access) knows when it
    // is stale without building it again.
    uint64_t generation() const;

    // insert(), or std::runtime_error ("I/O ports 0x3f8-0x3ff are already in
    // use") for a device whose place is taken.
    void insert_or_throw(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name);
    // For the devices QEMU lets overlap (isa-debugcon's 0xe9 inside
    // pc-testdev's 0xe8-0xeb, a -device IDE controller's legacy ports):
    // where the range is taken, the newer region goes over it, as QEMU
    // gives an address to the newest region of equal priority (mappings()
    // lists it at priority 0, as QEMU's info mtree); over such a region of
    // the same range (a third IDE controller's ports) it takes that one's
    // place, and the displaced one is only listed (remove() does not bring
    // it back). Throws like insert_or_throw() otherwise.
    void insert_newest_wins(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name);

private:
    struct Range {
        uint64_t len;
        std::shared_ptr<BusDevice> dev;
        std::string name;
        int priority = 0;  // an overlay's: 1 from insert_overlay, 0 newest-wins
    };
    using RangeMap = std::map<uint64_t, Range>;
    static bool fits(const RangeMap& map, uint64_t base, uint64_t len);
    static const RangeMap::value_type* lookup(const RangeMap& map, uint64_t addr);
    struct Hit {
        std::shared_ptr<BusDevice> dev;
        uint64_t offset;
    };
    std::optional<Hit> find(uint64_t addr) const;

    std::string name_;
    mutable std::shared_mutex lock_;
    RangeMap ranges_;
    RangeMap overlays_;
    std::multimap<uint64_t, Range> shadowed_;  // newest-wins regions displaced by a newer one
    uint64_t generation_ = 0;
};

} // namespace kestrel
