#include "devices/serial/serial_16550.h"

#include <spdlog/spdlog.h>
#include <utility>

namespace kestrel {

namespace {

// Register offsets.
constexpr unsigned kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5,
                   kMsr = 6, kScr = 7;

constexpr uint8_t kIerRdi = 0x01, kIerThri = 0x02, kIerRlsi = 0x04, kIerMsi = 0x08;

constexpr uint8_t kIirNoInt = 0x01, kIirMsi = 0x00, kIirThri = 0x02, kIirRdi = 0x04,
                  kIirRlsi = 0x06, kIirTimeout = 0x0c, kIirFifoEnabled = 0xc0;

constexpr uint8_t kFcrEnable = 0x01, kFcrClearRx = 0x02, kFcrStored = 0xc9;

constexpr uint8_t kLcrDlab = 0x80;

constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08,
                  kMcrLoop = 0x10, kMcrMask = 0x1f;

constexpr uint8_t kLsrDr = 0x01, kLsrOe = 0x02, kLsrPe = 0x04, kLsrFe = 0x08, kLsrBi = 0x10,
                  kLsrThre = 0x20, kLsrTemt = 0x40, kLsrFifoErr = 0x80;
constexpr uint8_t kLsrErrors = kLsrOe | kLsrPe | kLsrFe | kLsrBi;

constexpr uint8_t kMsrDcts = 0x01, kMsrDdsr = 0x02, kMsrTeri = 0x04, kMsrDdcd = 0x08,
                  kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;
constexpr uint8_t kMsrDeltas = 0x0f;

constexpr size_t kTriggerLevels[4] = {1, 4, 8, 14};

} // namespace

void Serial16550::RxFifo::push(uint8_t v) {
    buf_[(head_ + count_) % buf_.size()] = v;
    ++count_;
}

uint8_t Serial16550::RxFifo::pop() {
    if (count_ == 0) return 0;
    uint8_t v = buf_[head_];
    head_ = (head_ + 1) % buf_.size();
    --count_;
    return v;
}

Serial16550::Serial16550(Chardev* chardev, IrqLine& irq) : chardev_(chardev), irq_(irq) {
    reset();
    if (chardev_) chardev_->attach(this);
}

void Serial16550::connect_chardev(Chardev& chardev) {
    Chardev* old = nullptr;
    {
        std::lock_guard guard(lock_);
        old = std::exchange(chardev_, &chardev);
    }
    if (old) old->attach(nullptr);
    chardev.attach(this);
}

Serial16550::~Serial16550() {
    if (chardev_) chardev_->attach(nullptr);
}

void Serial16550::reset() {
    std::unique_lock guard(lock_);
    ier_ = lcr_ = mcr_ = lsr_ = msr_ = scr_ = fcr_ = 0;
    divisor_ = 12;  // 9600 baud; firmware and drivers program their own
    rx_.clear();
    thr_interrupt_ = false;
    note_rx_room();
    update_irq();
    unlock_and_notify(guard);
}

void Serial16550::unlock_and_notify(std::unique_lock<std::mutex>& guard) {
    bool notify = notify_backend_;
    notify_backend_ = false;
    guard.unlock();
    if (notify && chardev_) chardev_->frontend_ready();
}

void Serial16550::read(uint64_t offset, std::span<uint8_t> data) {
    std::unique_lock guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        if (offset + i >= kSerialPortCount) {
            if (!logged_bad_access_) spdlog::debug("serial: read past the UART at +{:#x}", offset + i);
            logged_bad_access_ = true;
            data[i] = 0xff;
            continue;
        }
        data[i] = read_register(unsigned(offset + i));
    }
    unlock_and_notify(guard);
}

void Serial16550::write(uint64_t offset, std::span<const uint8_t> data) {
    std::unique_lock guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        if (offset + i >= kSerialPortCount) {
            if (!logged_bad_access_) spdlog::debug("serial: write past the UART at +{:#x}", offset + i);
            logged_bad_access_ = true;
            continue;
        }
        write_register(unsigned(offset + i), data[i]);
    }
    unlock_and_notify(guard);
}

uint8_t Serial16550::read_register(unsigned reg) {
    bool dlab = lcr_ & kLcrDlab;
    switch (reg) {
    case kRbrThr: return dlab ? uint8_t(divisor_) : read_rbr();
    case kIer: return dlab ? uint8_t(divisor_ >> 8) : ier_;
    case kIirFcr: return read_iir();
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr: return read_lsr();
    case kMsr: return read_msr();
    default: return scr_;
    }
}

void Serial16550::write_register(unsigned reg, uint8_t value) {
    bool dlab = lcr_ & kLcrDlab;
    switch (reg) {
    case kRbrThr:
        if (dlab) divisor_ = uint16_t((divisor_ & 0xff00) | value);
        else write_thr(value);
        break;
    case kIer:
        if (dlab) divisor_ = uint16_t((divisor_ & 0x00ff) | (value << 8));
        else write_ier(value);
        break;
    case kIirFcr: write_fcr(value); break;
    case kLcr: lcr_ = value; break;
    case kMcr: write_mcr(value); break;
    case kLsr:
    case kMsr: break;  // read-only on a 16550A (factory test writes do nothing)
    case kScr: scr_ = value; break;
    }
}

uint8_t Serial16550::read_rbr() {
    uint8_t v = rx_.pop();
    note_rx_room();
    update_irq();
    return v;
}

uint8_t Serial16550::read_iir() {
    uint8_t id = pending_interrupt();
    // Reading IIR acknowledges a THRE interrupt, but only when it is the one reported.
    if (id == kIirThri) thr_interrupt_ = false;
    update_irq();
    return uint8_t(id | (fifo_enabled() ? kIirFifoEnabled : 0));
}

uint8_t Serial16550::read_lsr() {
    uint8_t v = uint8_t(lsr_ | kLsrThre | kLsrTemt | (rx_.empty() ? 0 : kLsrDr));
    lsr_ &= uint8_t(~(kLsrErrors | kLsrFifoErr));
    update_irq();
    return v;
}

uint8_t Serial16550::read_msr() {
    uint8_t v = uint8_t(modem_inputs() | (msr_ & kMsrDeltas));
    msr_ = 0;
    update_irq();
    return v;
}

void Serial16550::write_thr(uint8_t value) {
    if (loopback()) {
        receive_byte(value);
    } else if (chardev_) {
        chardev_->write({&value, 1});
    }
    // The byte left at once: THR is empty again, which raises THRE anew.
    thr_interrupt_ = (ier_ & kIerThri) != 0;
    update_irq();
}

void Serial16550::write_ier(uint8_t value) {
    uint8_t changed = uint8_t((ier_ ^ value) & 0x0f);
    ier_ = value & 0x0f;
    // Enabling THRI while THR is empty raises the interrupt (Linux's 8250
    // startup tests exactly this); disabling it drops a pending one.
    if (changed & kIerThri) thr_interrupt_ = (ier_ & kIerThri) != 0;
    update_irq();
}

void Serial16550::write_fcr(uint8_t value) {
    bool enable = value & kFcrEnable;
    if (enable != fifo_enabled()) clear_rx();  // toggling the FIFO mode empties both FIFOs
    if (!enable) {
        fcr_ = 0;
    } else {
        if (value & kFcrClearRx) clear_rx();
        // Clearing the TX FIFO (bit 2) has nothing to do: transmit is instant.
        fcr_ = value & kFcrStored;
    }
    update_irq();
}

void Serial16550::write_mcr(uint8_t value) {
    uint8_t old_inputs = modem_inputs();
    bool was_loopback = loopback();
    mcr_ = value & kMcrMask;
    update_modem_inputs(old_inputs);
    if (was_loopback && !loopback()) note_rx_room();
    update_irq();
}

size_t Serial16550::can_receive() {
    std::lock_guard guard(lock_);
    size_t room = (loopback() || rx_.size() >= rx_capacity()) ? 0 : rx_capacity() - rx_.size();
    if (room == 0) rx_blocked_ = true;
    return room;
}

void Serial16550::receive(std::span<const uint8_t> data) {
    std::lock_guard guard(lock_);
    if (loopback()) return;  // the serial input pin is disconnected in loopback mode
    for (uint8_t b : data) receive_byte(b);
    update_irq();
}

void Serial16550::send_break() {
    std::lock_guard guard(lock_);
    receive_byte(0);
    lsr_ |= uint8_t(kLsrBi | (fifo_enabled() ? kLsrFifoErr : 0));
    update_irq();
}

void Serial16550::receive_byte(uint8_t value) {
    if (rx_.size() < rx_capacity()) {
        rx_.push(value);
        return;
    }
    lsr_ |= kLsrOe;
    // Without FIFOs the new character overwrites the holding register; with
    // them it is lost in the shift register and the FIFO is kept.
    if (!fifo_enabled()) {
        rx_.pop();
        rx_.push(value);
    }
}

void Serial16550::clear_rx() {
    rx_.clear();
    note_rx_room();
}

// After the guest took data: let a backend we turned away send more. Waiting
// for half a FIFO of room batches the wake-ups without starving the guest.
void Serial16550::note_rx_room() {
    if (!rx_blocked_ || loopback()) return;
    if (rx_.size() > rx_capacity() / 2) return;
    rx_blocked_ = false;
    notify_backend_ = true;
}

size_t Serial16550::rx_capacity() const { return fifo_enabled() ? kFifoSize : 1; }

size_t Serial16550::rx_trigger_level() const { return kTriggerLevels[fcr_ >> 6]; }

bool Serial16550::fifo_enabled() const { return fcr_ & kFcrEnable; }

bool Serial16550::loopback() const { return mcr_ & kMcrLoop; }

uint8_t Serial16550::modem_inputs() const {
    if (!loopback()) return kMsrCts | kMsrDsr | kMsrDcd;  // a connected, ready peer
    uint8_t v = 0;
    if (mcr_ & kMcrRts) v |= kMsrCts;
    if (mcr_ & kMcrDtr) v |= kMsrDsr;
    if (mcr_ & kMcrOut1) v |= kMsrRi;
    if (mcr_ & kMcrOut2) v |= kMsrDcd;
    return v;
}

void Serial16550::update_modem_inputs(uint8_t old_inputs) {
    uint8_t now = modem_inputs();
    uint8_t changed = old_inputs ^ now;
    if (changed & kMsrCts) msr_ |= kMsrDcts;
    if (changed & kMsrDsr) msr_ |= kMsrDdsr;
    if (changed & kMsrDcd) msr_ |= kMsrDdcd;
    if ((old_inputs & kMsrRi) && !(now & kMsrRi)) msr_ |= kMsrTeri;  // trailing edge only
}

// IIR bits 3:0 by the 16550's priorities.
uint8_t Serial16550::pending_interrupt() const {
    if ((ier_ & kIerRlsi) && (lsr_ & kLsrErrors)) return kIirRlsi;
    if ((ier_ & kIerRdi) && !rx_.empty()) {
        // Data below the trigger level is reported as a character timeout
        // right away instead of after four character times: nothing sits
        // in the FIFO unannounced.
        if (fifo_enabled() && rx_.size() < rx_trigger_level()) return kIirTimeout;
        return kIirRdi;
    }
    if ((ier_ & kIerThri) && thr_interrupt_) return kIirThri;
    if ((ier_ & kIerMsi) && (msr_ & kMsrDeltas)) return kIirMsi;
    return kIirNoInt;
}

void Serial16550::update_irq() {
    bool level = pending_interrupt() != kIirNoInt;
    if (level == irq_level_) return;
    irq_level_ = level;
    irq_.set_level(level);
}

} // namespace kestrel
