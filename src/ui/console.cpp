#include "ui/console.h"

namespace kestrel {

namespace {
constexpr size_t kMaxPendingRects = 256;  // beyond this, one bounding rectangle
}

Console::Console(std::string device, std::string qom_path, DisplaySource& source)
    : device_(std::move(device)), qom_path_(std::move(qom_path)), source_(source) {}

void Console::changed() {
    if (dirty_.exchange(true)) return;
    std::lock_guard guard(wake_lock_);
    if (wake_) wake_();
}

void Console::set_wake(std::function<void()> wake) {
    std::lock_guard guard(wake_lock_);
    wake_ = std::move(wake);
}

bool Console::refresh(bool full) {
    std::lock_guard guard(lock_);
    int width = surface_.width(), height = surface_.height();
    std::vector<Rect> drawn;
    source_.render(surface_, full || width == 0, drawn);
    bool resized = surface_.width() != width || surface_.height() != height;
    if (resized) {
        resized_ = true;
        damage_.clear();
        return true;
    }
    if (drawn.empty()) return false;
    for (const Rect& r : drawn) damage_.push_back(r);
    if (damage_.size() > kMaxPendingRects) {
        Rect all;
        for (const Rect& r : damage_) all = all.united(r);
        damage_.assign(1, all);
    }
    return true;
}

Surface Console::snapshot() {
    refresh();
    std::lock_guard guard(lock_);
    Surface copy(surface_.width(), surface_.height());
    std::copy_n(surface_.data(), size_t(surface_.width()) * size_t(surface_.height()), copy.data());
    return copy;
}

Console::Pending Console::take_pending() {
    std::lock_guard guard(lock_);
    Pending p{surface_, resized_, std::move(damage_)};
    resized_ = false;
    damage_.clear();
    return p;
}

} // namespace kestrel
