#include "devices/usb/tablet/tablet_reports.h"

#include <algorithm>

namespace kestrel {

void TabletReports::sync() {
    if (count == kDepth - 1) return;  // full: the next sync after a poll takes it
    TabletReport& current = building();
    if (count > 0) {
        TabletReport& last = ring[(head + count - 1) % kDepth];
        if (last.buttons == current.buttons) {
            last.x = current.x;
            last.y = current.y;
            last.wheel = std::clamp(last.wheel + current.wheel, -kMaxWheel, kMaxWheel);
            current.wheel = 0;
            return;
        }
    }
    TabletReport next = state();
    ++count;
    building() = next;
}

TabletReport TabletReports::take() {
    TabletReport& oldest = ring[head];
    TabletReport out = oldest;
    out.wheel = std::clamp(oldest.wheel, -127, 127);
    oldest.wheel -= out.wheel;
    if (oldest.wheel == 0) {
        head = (head + 1) % kDepth;
        --count;
    }
    return out;
}

void TabletReports::add_wheel(int32_t detents) {
    TabletReport& r = building();
    r.wheel = std::clamp(r.wheel + std::clamp(detents, -kMaxWheel, kMaxWheel), -kMaxWheel, kMaxWheel);
}

void TabletReports::clear() {
    TabletReport state = building();
    head = 0;
    count = 0;
    ring[0] = state;
}

} // namespace kestrel
