#pragma once
// A picture of a guest screen: 32-bit pixels 0x00RRGGBB (the byte order B,
// G, R, X in memory), rows of width() pixels. The pixel buffer is shared so
// that a VNC server can keep sending from a buffer while the display has
// already moved to a new one of another size. Buffers are mapped from the
// kernel, not malloc'd: a new one costs no memory until drawn into, and a
// released one goes back at once (a thread's malloc arena would keep it).
#include <algorithm>
#include <cstdint>
#include <memory>

namespace kestrel {

struct Rect {
    int x = 0, y = 0, w = 0, h = 0;
    bool empty() const { return w <= 0 || h <= 0; }
    bool operator==(const Rect&) const = default;
    // The smallest rectangle holding both.
    Rect united(const Rect& o) const {
        if (empty()) return o;
        if (o.empty()) return *this;
        int x0 = std::min(x, o.x), y0 = std::min(y, o.y);
        int x1 = std::max(x + w, o.x + o.w), y1 = std::max(y + h, o.y + o.h);
        return {x0, y0, x1 - x0, y1 - y0};
    }
};

class Surface {
public:
    // QEMU's limits for a console surface; a mode beyond them is refused.
    static constexpr int kMaxWidth = 16384, kMaxHeight = 16384;

    Surface() = default;
    Surface(int width, int height) { resize(width, height); }

    int width() const { return width_; }
    int height() const { return height_; }
    uint32_t* row(int y) { return pixels_.get() + size_t(y) * size_t(width_); }
    const uint32_t* row(int y) const { return pixels_.get() + size_t(y) * size_t(width_); }
    uint32_t* data() { return pixels_.get(); }
    const uint32_t* data() const { return pixels_.get(); }
    // The buffer itself, for a listener that must keep it alive.
    std::shared_ptr<uint32_t[]> buffer() const { return pixels_; }
    Rect bounds() const { return {0, 0, width_, height_}; }

    // A new black buffer of this size (the old one stays with its holders).
    void resize(int width, int height) {
        width_ = std::clamp(width, 1, kMaxWidth);
        height_ = std::clamp(height, 1, kMaxHeight);
        pixels_ = allocate(size_t(width_) * size_t(height_));
    }

private:
    // A zeroed buffer of `count` pixels; throws std::bad_alloc.
    static std::shared_ptr<uint32_t[]> allocate(size_t count);

    int width_ = 0, height_ = 0;
    std::shared_ptr<uint32_t[]> pixels_;
};

} // namespace kestrel
