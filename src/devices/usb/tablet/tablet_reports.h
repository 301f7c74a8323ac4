#pragma once
// The tablet's reports waiting for the guest, as QEMU's HID device keeps
// them: every input batch (the events up to a sync) becomes a report of its
// own, so a click between two interrupt polls is not lost, and events of
// separate batches never merge into one report (where Linux would emit the
// button before the axes). Only a batch that changes no button folds into
// the last report the guest has not read yet: its position replaces that
// report's, its wheel adds to it. At most kDepth - 1 reports wait; while
// the queue is full, new batches accumulate in the one being built.
// Plain data: the guest-visible state, for save/restore.
#include <array>
#include <cstdint>

namespace kestrel {

struct TabletReport {
    uint8_t buttons = 0;  // bit 0 left, 1 right, 2 middle
    uint16_t x = 0, y = 0;  // 0..0x7fff
    int32_t wheel = 0;      // detents, up positive; a report carries -127..127
};

struct TabletReports {
    static constexpr unsigned kDepth = 16;
    static constexpr int32_t kMaxWheel = 1 << 20;  // detents kept for a guest that does not read

    std::array<TabletReport, kDepth> ring{};
    unsigned head = 0;    // the oldest report the guest has not read
    unsigned count = 0;   // reports complete and waiting

    // The report the current batch's events go to.
    TabletReport& building() { return ring[(head + count) % kDepth]; }
    const TabletReport& building() const { return ring[(head + count) % kDepth]; }
    // The buttons and position now (the report being built, no wheel).
    TabletReport state() const {
        TabletReport r = building();
        r.wheel = 0;
        return r;
    }
    // Ends the batch: it becomes a report (or folds into the last one).
    void sync();
    bool empty() const { return count == 0; }
    // The oldest waiting report, removed once its wheel is all told. Only
    // when !empty().
    TabletReport take();
    // Drops the waiting reports, keeping the state being built.
    void clear();
    // Adds detents to the report being built.
    void add_wheel(int32_t detents);
};

} // namespace kestrel
