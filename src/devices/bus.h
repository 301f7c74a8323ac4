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
    bool insert(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev);
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
    };
    // Every mapping in address order (for the monitor's "info mtree").
    std::vector<Mapping> mappings() const;

private:
    struct Range {
        uint64_t len;
        std::shared_ptr<BusDevice> dev;
    };
    struct Hit {
        std::shared_ptr<BusDevice> dev;
        uint64_t offset;
    };
    std::optional<Hit> find(uint64_t addr) const;

    std::string name_;
    mutable std::shared_mutex lock_;
    std::map<uint64_t, Range> ranges_;
};

} // namespace kestrel
