// The UHCI schedule: each frame's list of queue heads and transfer
// descriptors in guest memory, run against the root ports' devices, and
// the timer that advances frames while the controller runs (every
// millisecond while transfers complete, every 8 ms while the schedule only
// polls, none while halted).
#include "devices/usb/uhci/uhci.h"

#include <algorithm>
#include <spdlog/spdlog.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <vector>

namespace kestrel {

namespace {

constexpr uint32_t LINK_TERMINATE = 1, LINK_QH = 2, LINK_DEPTH = 4;
constexpr uint32_t TD_ACTIVE = 1u << 23, TD_STALLED = 1u << 22, TD_NAK = 1u << 19;
constexpr uint32_t TD_TIMEOUT = 1u << 18, TD_IOC = 1u << 24, TD_SPD = 1u << 29;
constexpr uint32_t TD_ERROR_MASK = 3u << 27;
constexpr unsigned kMaxLinksPerFrame = 1024;
constexpr int kBusyTickMs = 1, kIdleTickMs = 8;
constexpr unsigned kBusyFrames = 64;

uint32_t with_length(uint32_t ctrl, size_t length) {
    return (ctrl & ~0x7ffu) | uint32_t((length - 1) & 0x7ff);
}

} // namespace

UsbDevice* Uhci::find_device(uint8_t address) const {
    for (unsigned p = 0; p < 2; ++p)
        if (devices_[p] && (s_.ports[p] & PORT_EN) && devices_[p]->address() == address) return devices_[p];
    return nullptr;
}

// The guest pointed the controller outside its memory: stop, as a real
// controller stops on a failed bus master cycle.
void Uhci::host_error() {
    s_.status |= STS_HSERR | STS_HALTED;
    s_.cmd &= uint16_t(~CMD_RS);
    update_irq();
}

Uhci::TdResult Uhci::execute_td(uint32_t addr, uint32_t& ctrl, uint32_t token, uint32_t buffer) {
    uint8_t pid = uint8_t(token);
    uint8_t device_address = (token >> 8) & 0x7f, endpoint = (token >> 15) & 0xf;
    size_t max_length = ((token >> 21) + 1) & 0x7ff;
    if (pid != usb::PID_SETUP && pid != usb::PID_IN && pid != usb::PID_OUT) {
        s_.status |= STS_HCPERR | STS_HALTED;  // the controller's own error: a PID it does not know
        s_.cmd &= uint16_t(~CMD_RS);
        update_irq();
        return TdResult::Halt;
    }
    std::vector<uint8_t> data(max_length);
    if (pid != usb::PID_IN && max_length && !memory_.read(buffer, data)) {
        host_error();
        return TdResult::Halt;
    }
    UsbDevice* device = find_device(device_address);
    if (!device) {  // nobody answers: a timeout
        ctrl = (ctrl & ~(TD_ACTIVE | TD_ERROR_MASK)) | TD_TIMEOUT;
        s_.status |= STS_USBERR;
        if (ctrl & TD_IOC) s_.pending |= 1;
        return TdResult::NextQh;
    }
    UsbDevice::Result r = device->transaction(pid, endpoint, data);
    if (r.status == UsbDevice::Status::Nak) {
        ctrl |= TD_NAK;
        return TdResult::NextQh;
    }
    if (r.status == UsbDevice::Status::Stall) {
        ctrl = (ctrl & ~TD_ACTIVE) | TD_STALLED;
        s_.status |= STS_USBERR;
        if (ctrl & TD_IOC) s_.pending |= 1;
        return TdResult::NextQh;
    }
    size_t length = std::min(r.length, max_length);
    if (pid == usb::PID_IN && length && !memory_.write(buffer, {data.data(), length})) {
        host_error();
        return TdResult::Halt;
    }
    ctrl = with_length(ctrl & ~(TD_ACTIVE | TD_NAK), length);
    if (ctrl & TD_IOC) s_.pending |= 1;
    idle_frames_ = 0;
    if (pid == usb::PID_IN && length < max_length && (ctrl & TD_SPD)) {
        s_.pending |= 2;
        return TdResult::NextQh;  // a short packet ends the queue's work this frame
    }
    (void)addr;
    return TdResult::Next;
}

// Queue heads are followed breadth-first: one descriptor of each queue per
// frame unless a descriptor asks for depth-first (its Vf bit). A queue
// head met twice in a frame without progress ends the frame (Linux links
// its queues in a ring).
void Uhci::process_frame() {
    uint32_t link = 0;
    if (!memory_.read_obj(s_.frame_list + ((s_.frnum & 0x3ff) << 2), link)) {
        host_error();
        return;
    }
    std::vector<uint32_t> seen_qhs;
    unsigned completed_since_seen = 0;
    uint32_t qh = 0;  // the queue head whose element is being run, 0 if none
    for (unsigned visits = 0; !(link & LINK_TERMINATE) && visits < kMaxLinksPerFrame; ++visits) {
        uint32_t addr = link & ~0xfu;
        if (link & LINK_QH) {
            if (std::find(seen_qhs.begin(), seen_qhs.end(), addr) != seen_qhs.end()) {
                if (completed_since_seen == 0) break;
                seen_qhs.clear();
                completed_since_seen = 0;
            }
            seen_qhs.push_back(addr);
            uint32_t q[2];
            if (!memory_.read(addr, {reinterpret_cast<uint8_t*>(q), sizeof q})) return host_error();
            if (q[1] & LINK_TERMINATE) {
                link = q[0];
                continue;
            }
            qh = addr;
            link = q[1];
            continue;
        }
        uint32_t td[4];
        if (!memory_.read(addr, {reinterpret_cast<uint8_t*>(td), sizeof td})) return host_error();
        uint32_t next_qh = 0;
        if (qh && !memory_.read_obj(qh, next_qh)) return host_error();
        if (!(td[1] & TD_ACTIVE)) {
            link = qh ? next_qh : td[0];
            qh = 0;
            continue;
        }
        uint32_t ctrl = td[1];
        TdResult r = execute_td(addr, ctrl, td[2], td[3]);
        if (r == TdResult::Halt) return;
        if (ctrl != td[1] && !memory_.write_obj(addr + 4, ctrl)) return host_error();
        if (r == TdResult::Next) {
            ++completed_since_seen;
            if (qh && !memory_.write_obj(qh + 4, td[0])) return host_error();
            if (!qh || (td[0] & LINK_DEPTH)) {
                link = td[0];
                continue;
            }
        }
        link = qh ? next_qh : td[0];
        qh = 0;
    }
}

void Uhci::run_frames(unsigned frames) {
    std::lock_guard guard(lock_);
    for (unsigned i = 0; i < frames && (s_.cmd & CMD_RS); ++i) {
        process_frame();
        s_.frnum = (s_.frnum + 1) & 0x7ff;
        ++idle_frames_;
        if (s_.pending) {
            s_.status |= STS_USBINT;
            update_irq();
        }
    }
}

// --- The frame timer ---

void Uhci::schedule_timer() {
    int ms = idle_frames_ < kBusyFrames ? kBusyTickMs : kIdleTickMs;
    itimerspec t{};
    t.it_value.tv_nsec = long(ms) * 1000000;
    timerfd_settime(timer_fd_, 0, &t, nullptr);
    timer_armed_ = true;
}

void Uhci::on_timer() {
    uint64_t expirations;
    [[maybe_unused]] ssize_t n = ::read(timer_fd_, &expirations, sizeof expirations);
    auto now = std::chrono::steady_clock::now();
    unsigned frames;
    {
        std::lock_guard guard(lock_);
        timer_armed_ = false;
        if (!(s_.cmd & CMD_RS)) return;
        auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_frame_).count();
        frames = unsigned(std::clamp<int64_t>(elapsed, 1, max_frames_));
        last_frame_ += std::chrono::milliseconds(elapsed > int64_t(max_frames_) ? elapsed : frames);
    }
    run_frames(frames);
    std::lock_guard guard(lock_);
    if ((s_.cmd & CMD_RS) && !timer_armed_) schedule_timer();
}

} // namespace kestrel
