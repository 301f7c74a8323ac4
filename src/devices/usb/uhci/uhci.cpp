#include "devices/usb/uhci/uhci.h"

#include <algorithm>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel {


Uhci::Uhci(const GuestMemory& memory, std::function<void(bool)> irq, EventLoop& loop, unsigned max_frames)
    : memory_(memory), irq_(std::move(irq)), loop_(loop), max_frames_(std::clamp(max_frames, 1u, 1024u)) {
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    reset_locked();
    loop_.call([this] { loop_.add_fd(timer_fd_, 0x001 /* EPOLLIN */, [this](uint32_t) { on_timer(); }); });
}

// On the loop's thread, so that no frame timer runs while it goes (a
// controller that failed start-up, or was unplugged, may go while its
// thread still runs).
Uhci::~Uhci() {
    if (timer_fd_ < 0) return;
    loop_.call([this] { loop_.remove_fd(timer_fd_); });
    close(timer_fd_);
}

void Uhci::reset() {
    std::lock_guard guard(lock_);
    reset_locked();
}

void Uhci::reset_locked() {
    s_ = UhciState{};
    s_.status = STS_HALTED;
    for (unsigned p = 0; p < 2; ++p) {
        s_.ports[p] = PORT_ALWAYS;
        if (devices_[p]) {
            devices_[p]->reset();
            s_.ports[p] |= PORT_CCS | PORT_CSC;
        }
    }
    update_irq();
}

UhciState Uhci::state() const {
    std::lock_guard guard(lock_);
    return s_;
}

// --- Root ports ---

UsbDevice* Uhci::device_at(unsigned port) const {
    std::lock_guard guard(lock_);
    return port < 2 ? devices_[port] : nullptr;
}

void Uhci::attach(unsigned port, UsbDevice& device) {
    std::lock_guard guard(lock_);
    if (port >= 2) return;
    devices_[port] = &device;
    device.reset();
    s_.ports[port] |= PORT_CCS | PORT_CSC;
    if (s_.cmd & CMD_EGSM) s_.status |= STS_RD;  // a connect wakes a suspended bus
    update_irq();
}

void Uhci::detach(unsigned port) {
    std::lock_guard guard(lock_);
    if (port >= 2) return;
    devices_[port] = nullptr;
    if (s_.ports[port] & PORT_CCS) s_.ports[port] = uint16_t((s_.ports[port] & ~(PORT_CCS | PORT_EN)) | PORT_CSC | PORT_ENC);
    update_irq();
}

// --- Registers ---

void Uhci::read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(lock_);
    if (data.size() == 4 && offset == 0x08) {
        store_le(data, s_.frame_list);
        return;
    }
    for (size_t i = 0; i < data.size();) {
        uint64_t at = offset + i;
        uint16_t v = read_register(at & ~uint64_t(1));
        data[i] = uint8_t(v >> (8 * (at & 1)));
        ++i;
        if ((at & 1) == 0 && i < data.size()) data[i++] = uint8_t(v >> 8);
    }
}

uint16_t Uhci::read_register(uint64_t offset) {
    switch (offset) {
    case 0x00: return s_.cmd;
    case 0x02: return s_.status;
    case 0x04: return s_.intr;
    case 0x06: return s_.frnum;
    case 0x08: return uint16_t(s_.frame_list);
    case 0x0a: return uint16_t(s_.frame_list >> 16);
    case 0x0c: return s_.sof_timing;
    case 0x10: return s_.ports[0];
    case 0x12: return s_.ports[1];
    default: return 0xffff;
    }
}

void Uhci::write(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard guard(lock_);
    uint32_t v = uint32_t(load_le(data));
    if (data.size() == 4 && offset == 0x08) {
        s_.frame_list = v & ~0xfffu;
        return;
    }
    if (data.size() == 4) {  // two 16-bit registers
        write_register(offset, uint16_t(v), 2);
        write_register(offset + 2, uint16_t(v >> 16), 2);
        return;
    }
    write_register(offset, uint16_t(v), unsigned(data.size()));
}

void Uhci::write_register(uint64_t offset, uint16_t value, unsigned size) {
    switch (offset) {
    case 0x00: write_command(value); break;
    case 0x02:
        s_.status &= uint16_t(~value);
        if (value & STS_USBINT) s_.pending = 0;
        update_irq();
        break;
    case 0x04:
        s_.intr = value & 0x0f;
        update_irq();
        break;
    case 0x06:
        if (s_.status & STS_HALTED) s_.frnum = value & 0x7ff;
        break;
    case 0x08: s_.frame_list = (s_.frame_list & 0xffff0000u) | (value & 0xf000u); break;
    case 0x0a: s_.frame_list = (s_.frame_list & 0xffffu) | (uint32_t(value) << 16); break;
    case 0x0c: s_.sof_timing = uint8_t(value & 0x7f); break;
    case 0x10:
    case 0x12:
        if (size == 1) value = uint16_t((s_.ports[(offset - 0x10) / 2] & 0xff00) | (value & 0xff));
        write_port(unsigned((offset - 0x10) / 2), value);
        break;
    default: break;
    }
}

void Uhci::write_command(uint16_t value) {
    if (value & CMD_GRESET) {
        reset_locked();
        return;
    }
    if (value & CMD_HCRESET) {
        reset_locked();
        return;
    }
    bool starting = (value & CMD_RS) && !(s_.cmd & CMD_RS);
    s_.cmd = value & 0xff;
    if (value & CMD_RS) {
        s_.status &= uint16_t(~STS_HALTED);
    } else {
        s_.status |= STS_HALTED;
    }
    if (starting) {
        last_frame_ = std::chrono::steady_clock::now();
        idle_frames_ = 0;
        schedule_timer();
    }
}

// A port reset resets its device; enable only with a device connected;
// the change bits clear when written with 1.
void Uhci::write_port(unsigned port, uint16_t value) {
    uint16_t& p = s_.ports[port];
    if ((value & PORT_RESET) && !(p & PORT_RESET) && devices_[port]) devices_[port]->reset();
    constexpr uint16_t kReadOnly = 0x1bb;
    constexpr uint16_t kWriteClear = PORT_CSC | PORT_ENC;
    p &= kReadOnly;
    if (!(p & PORT_CCS)) value &= uint16_t(~PORT_EN);
    p |= value & uint16_t(~kReadOnly);
    p &= uint16_t(~(value & kWriteClear));
    p |= PORT_ALWAYS;
}

void Uhci::update_irq() {
    bool level = ((s_.pending & 1) && (s_.intr & INTR_IOC)) || ((s_.pending & 2) && (s_.intr & INTR_SPD)) ||
                 ((s_.status & STS_USBERR) && (s_.intr & INTR_TIMEOUT)) ||
                 ((s_.status & STS_RD) && (s_.intr & INTR_RESUME)) || (s_.status & (STS_HSERR | STS_HCPERR));
    if (level == irq_level_) return;
    irq_level_ = level;
    irq_(level);
}

} // namespace kestrel
