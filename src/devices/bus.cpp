#include "devices/bus.h"

#include <algorithm>
#include <mutex>

namespace kestrel {

bool Bus::insert(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev) {
    if (len == 0 || base + len < base) return false;
    std::unique_lock guard(lock_);
    auto next = ranges_.lower_bound(base);
    if (next != ranges_.end() && next->first < base + len) return false;
    if (next != ranges_.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second.len > base) return false;
    }
    ranges_.emplace(base, Range{len, std::move(dev)});
    return true;
}

bool Bus::remove(uint64_t base) {
    std::unique_lock guard(lock_);
    return ranges_.erase(base) > 0;
}

void Bus::clear() {
    std::unique_lock guard(lock_);
    ranges_.clear();
}

std::optional<Bus::Hit> Bus::find(uint64_t addr) const {
    std::shared_lock guard(lock_);
    auto it = ranges_.upper_bound(addr);
    if (it == ranges_.begin()) return std::nullopt;
    --it;
    if (addr - it->first >= it->second.len) return std::nullopt;
    return Hit{it->second.dev, addr - it->first};
}

bool Bus::read(uint64_t addr, std::span<uint8_t> data) const {
    auto hit = find(addr);
    if (!hit) {
        std::fill(data.begin(), data.end(), 0xff);
        return false;
    }
    hit->dev->read(hit->offset, data);
    return true;
}

bool Bus::write(uint64_t addr, std::span<const uint8_t> data) const {
    auto hit = find(addr);
    if (!hit) return false;
    hit->dev->write(hit->offset, data);
    return true;
}

std::vector<Bus::Mapping> Bus::mappings() const {
    std::shared_lock guard(lock_);
    std::vector<Mapping> out;
    for (const auto& [base, range] : ranges_) out.push_back({base, range.len, range.dev});
    return out;
}

} // namespace kestrel
