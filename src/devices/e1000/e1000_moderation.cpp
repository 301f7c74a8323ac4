// The 82540EM's interrupt moderation, as the 8254x manual describes it and
// Linux's e1000 driver programs it (RxIntDelay, RxAbsIntDelay, TxIntDelay,
// TxAbsIntDelay, InterruptThrottleRate):
// - RDTR (packet timer, 1.024 us units): every frame put in the ring
//   restarts it; RXT0 when it runs out. 0: RXT0 at once. Writing FPD
//   expires it now.
// - RADV (absolute timer): started by the first frame after an RXT0, not
//   restarted by later ones; RXT0 when it runs out. Off when RADV or RDTR
//   is 0. Either timer's RXT0 stops both.
// - TIDV and TADV: the same for TXDW after the write-back of descriptors
//   with RS and IDE; a write-back without IDE raises TXDW at once and
//   stops both.
// - ITR (256 ns units): an interrupt opens a window in which further causes
//   gather in ICR without raising the pin; it rises when the window closes.
// Receive descriptors used while RDTR runs are written back (DD) with
// RXT0, as the manual's "pending receive descriptor writebacks are
// flushed"; transmit descriptors at once. All timers
// share one deadline timer of the owner's (set_moderation_timer).
// QEMU 7.2 (mitigation=on) applies RADV when RDTR is not 0, TADV and ITR,
// not RDTR's or TIDV's own timers, and keeps 128 us between interrupts.
#include "devices/e1000/e1000_core.h"
#include "kvm/guest_memory.h"

#include <algorithm>

namespace kestrel {

using namespace e1000;

namespace {

constexpr uint64_t kDelayUnitNs = 1024;

uint64_t delay_ns(uint32_t reg_value) { return uint64_t(reg_value & 0xffff) * kDelayUnitNs; }

} // namespace

void E1000Core::write_back_rx(uint64_t addr, const std::array<uint8_t, 8>& status) {
    auto& pending = s_.moderation.rx_write_backs;
    if (!(reg(RDTR) & 0xffff) || !moderating()) {
        if (!pending.empty()) flush_rx_write_backs();   // in ring order
        memory_.write(addr, status);
        return;
    }
    // A descriptor waits once per lap of the ring; a guest moving RDH
    // about cannot make the list outgrow it.
    if (pending.size() >= std::max<uint32_t>(rx_ring_size(), 1)) flush_rx_write_backs();
    pending.push_back({addr, status});
}

void E1000Core::flush_rx_write_backs() {
    for (const auto& p : s_.moderation.rx_write_backs) memory_.write(p.addr, p.status);
    s_.moderation.rx_write_backs.clear();
}

// Restarts a packet timer, and starts its absolute timer if that is idle;
// false when the packet delay is 0 or moderation is off (the cause is due
// now).
bool E1000Core::start_delay(uint64_t& packet, uint64_t& absolute, uint32_t packet_reg, uint32_t absolute_reg) {
    uint64_t delay = delay_ns(reg(packet_reg));
    if (delay == 0 || !moderating()) return false;
    uint64_t now = now_();
    packet = now + delay;
    uint64_t absolute_delay = delay_ns(reg(absolute_reg));
    if (absolute_delay && !absolute) absolute = now + absolute_delay;
    rearm();
    return true;
}

void E1000Core::rx_frame_done() {
    E1000Moderation& m = s_.moderation;
    if (!start_delay(m.rx_packet, m.rx_absolute, RDTR, RADV)) rx_timer_interrupt();
}

void E1000Core::rx_timer_interrupt() {
    s_.moderation.rx_packet = s_.moderation.rx_absolute = 0;
    flush_rx_write_backs();
    set_cause(ICR_RXT0);
}

void E1000Core::write_rdtr(uint32_t value) {
    reg(RDTR) = value & 0xffff;
    const E1000Moderation& m = s_.moderation;
    if ((value & RDTR_FPD) && (m.rx_packet || m.rx_absolute || !m.rx_write_backs.empty())) rx_timer_interrupt();
}

void E1000Core::tx_written_back(bool delayed) {
    E1000Moderation& m = s_.moderation;
    if (!delayed || !start_delay(m.tx_packet, m.tx_absolute, TIDV, TADV)) tx_timer_interrupt();
}

void E1000Core::tx_timer_interrupt() {
    s_.moderation.tx_packet = s_.moderation.tx_absolute = 0;
    set_cause(ICR_TXDW);
}

// Whether ITR's window keeps the pin from rising now (a window whose
// deadline passed before its timer was served is closed here).
bool E1000Core::itr_holds(bool level) {
    E1000Moderation& m = s_.moderation;
    if (!level || !m.itr_end) return false;
    if (moderating() && now_() < m.itr_end) return true;
    m.itr_end = 0;
    return false;
}

void E1000Core::moderation_timer_expired() {
    armed_ = 0;
    serve_due_timers();
    rearm();
}

// Raises what is due. The timer's wake-up on the main loop comes late on a
// busy host and must kick a vCPU to deliver; a vCPU that touches the
// device first serves it itself (never before its deadline).
void E1000Core::serve_due_timers() {
    E1000Moderation& m = s_.moderation;
    if (!moderating() || !(m.itr_end | m.rx_packet | m.rx_absolute | m.tx_packet | m.tx_absolute)) return;
    uint64_t now = now_();
    auto due = [now](uint64_t deadline) { return deadline && deadline <= now; };
    if (due(m.itr_end)) {
        m.itr_end = 0;
        update_irq();
    }
    if (due(m.rx_packet) || due(m.rx_absolute)) rx_timer_interrupt();
    if (due(m.tx_packet) || due(m.tx_absolute)) tx_timer_interrupt();
}

// Sets the timer to the earliest running deadline, unless it already fires
// at or before it (an early expiry finds nothing due and sets it again).
// A delay timer running out inside an ITR window could not raise the pin
// before the window closes, so it is served then: one wake-up per window,
// however often the guest's traffic restarts RDTR or TIDV.
void E1000Core::rearm() {
    const E1000Moderation& m = s_.moderation;
    uint64_t next = m.itr_end;
    for (uint64_t deadline : {m.rx_packet, m.rx_absolute, m.tx_packet, m.tx_absolute}) {
        if (!deadline) continue;
        deadline = std::max(deadline, m.itr_end);
        if (!next || deadline < next) next = deadline;
    }
    if (!next || (armed_ && armed_ <= next)) return;
    armed_ = next;
    arm_timer_(next);
}

} // namespace kestrel
