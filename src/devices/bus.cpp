#include "devices/bus.h"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>
#include <mutex>

namespace kestrel {

bool Bus::fits(const RangeMap& map, uint64_t base, uint64_t len) {
    if (len == 0 || base + len < base) return false;
    auto next = map.lower_bound(base);
    if (next != map.end() && next->first < base + len) return false;
    return next == map.begin() || std::prev(next)->first + std::prev(next)->second.len <= base;
}

bool Bus::insert(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name) {
    std::unique_lock guard(lock_);
    if (!fits(ranges_, base, len)) return false;
    ranges_.emplace(base, Range{len, std::move(dev), std::move(name)});
    ++generation_;
    return true;
}

void Bus::insert_or_throw(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name) {
    if (insert(base, len, std::move(dev), std::move(name))) return;
    throw std::runtime_error(fmt::format("{} 0x{:x}-0x{:x} {} already in use", name_ == "io" ? "I/O ports" : "memory",
                                         base, base + len - 1, name_ == "io" ? "are" : "is"));
}

void Bus::insert_newest_wins(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name) {
    if (insert(base, len, dev, name)) return;
    std::unique_lock guard(lock_);
    auto same = overlays_.find(base);
    if (same != overlays_.end() && same->second.len == len && same->second.priority == 0) {
        shadowed_.emplace(base, std::move(same->second));
        same->second = Range{len, std::move(dev), std::move(name), 0};
    } else if (fits(overlays_, base, len)) {
        overlays_.emplace(base, Range{len, std::move(dev), std::move(name), 0});
    } else {
        guard.unlock();
        insert_or_throw(base, len, std::move(dev), std::move(name));  // throws the usual message
    }
    ++generation_;
}

bool Bus::insert_overlay(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name) {
    std::unique_lock guard(lock_);
    if (!fits(overlays_, base, len)) return false;
    overlays_.emplace(base, Range{len, std::move(dev), std::move(name), 1});
    ++generation_;
    return true;
}

bool Bus::remove(uint64_t base) {
    std::unique_lock guard(lock_);
    if (ranges_.erase(base) == 0 && overlays_.erase(base) == 0) return false;
    shadowed_.erase(base);
    ++generation_;
    return true;
}

void Bus::clear() {
    std::unique_lock guard(lock_);
    ranges_.clear();
    overlays_.clear();
    shadowed_.clear();
    ++generation_;
}

const Bus::RangeMap::value_type* Bus::lookup(const RangeMap& map, uint64_t addr) {
    auto it = map.upper_bound(addr);
    if (it == map.begin()) return nullptr;
    --it;
    return addr - it->first < it->second.len ? &*it : nullptr;
}

std::optional<Bus::Hit> Bus::find(uint64_t addr) const {
    std::shared_lock guard(lock_);
    const RangeMap::value_type* hit = overlays_.empty() ? nullptr : lookup(overlays_, addr);
    if (!hit) hit = lookup(ranges_, addr);
    if (!hit) return std::nullopt;
    return Hit{hit->second.dev, addr - hit->first};
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

uint64_t Bus::generation() const {
    std::shared_lock guard(lock_);
    return generation_;
}

std::vector<Bus::Mapping> Bus::mappings() const {
    std::shared_lock guard(lock_);
    std::vector<Mapping> out;
    for (const auto& [base, range] : ranges_) out.push_back({base, range.len, range.dev, range.name});
    for (const auto& [base, range] : overlays_) out.push_back({base, range.len, range.dev, range.name, range.priority});
    for (const auto& [base, range] : shadowed_) out.push_back({base, range.len, range.dev, range.name, 0});
    std::stable_sort(out.begin(), out.end(), [](const Mapping& a, const Mapping& b) { return a.base < b.base; });
    return out;
}

} // namespace kestrel
