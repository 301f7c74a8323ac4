#pragma once
// The bounded byte queue between a PS/2 device and the controller.
#include <cstddef>
#include <cstdint>
#include <deque>

namespace kestrel {

class Ps2Queue {
public:
    static constexpr size_t kCapacity = 256;

    // False (byte dropped) when full, as a device whose buffer overflowed.
    bool push(uint8_t v) {
        if (bytes_.size() >= kCapacity) return false;
        bytes_.push_back(v);
        return true;
    }
    uint8_t pop() {
        if (bytes_.empty()) return 0;
        uint8_t v = bytes_.front();
        bytes_.pop_front();
        return v;
    }
    bool empty() const { return bytes_.empty(); }
    size_t size() const { return bytes_.size(); }
    void clear() { bytes_.clear(); }

private:
    std::deque<uint8_t> bytes_;
};

} // namespace kestrel
