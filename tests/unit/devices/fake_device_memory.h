#pragma once
// DeviceMemory for unit tests: records mappings and coalesced zones; the
// test decides which pages read as dirty.
#include "devices/device_memory.h"

#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace kestrel::test {

struct FakeDeviceMemory final : DeviceMemory {
    struct Mapping {
        uint64_t gpa, size;
        uint8_t* host;
        bool log_dirty;
    };
    std::map<uint32_t, Mapping> mappings;
    std::set<std::pair<uint64_t, uint64_t>> coalesced;
    std::set<uint64_t> dirty_pages;  // page numbers within any mapping
    bool refuse = false;
    uint32_t next = 100;
    unsigned flushes = 0;
    std::function<void()> on_flush;  // what the queued writes do when delivered

    std::optional<uint32_t> map(uint64_t gpa, uint64_t size, uint8_t* host, bool log_dirty) override {
        if (refuse) return std::nullopt;
        mappings[next] = {gpa, size, host, log_dirty};
        return next++;
    }
    void unmap(uint32_t handle) override { mappings.erase(handle); }
    bool take_dirty(uint32_t handle, std::span<uint64_t> bitmap) override {
        auto it = mappings.find(handle);
        if (it == mappings.end() || !it->second.log_dirty) return false;
        std::fill(bitmap.begin(), bitmap.end(), 0);
        for (uint64_t page : dirty_pages)
            if (page / 64 < bitmap.size()) bitmap[page / 64] |= 1ull << (page % 64);
        dirty_pages.clear();
        return true;
    }
    bool add_coalesced(uint64_t gpa, uint64_t size) override {
        coalesced.insert({gpa, size});
        return true;
    }
    void remove_coalesced(uint64_t gpa, uint64_t size) override { coalesced.erase({gpa, size}); }
    void flush_coalesced() override {
        ++flushes;
        if (on_flush) on_flush();
    }
    // The mapping that covers `gpa`, if any.
    const Mapping* at(uint64_t gpa) const {
        for (const auto& [handle, m] : mappings)
            if (gpa >= m.gpa && gpa < m.gpa + m.size) return &m;
        return nullptr;
    }
};

} // namespace kestrel::test
