#include "devices/i8042/i8042.h"

#include <spdlog/spdlog.h>

namespace kestrel {

namespace {

// Status register.
constexpr uint8_t kStatusObf = 0x01, kStatusSys = 0x04, kStatusCmd = 0x08,
                  kStatusKeylock = 0x10, kStatusMouseObf = 0x20;

// Command byte (controller RAM 0).
constexpr uint8_t kCtrKbdInt = 0x01, kCtrMouseInt = 0x02, kCtrSys = 0x04, kCtrKbdDisable = 0x10,
                  kCtrMouseDisable = 0x20, kCtrTranslate = 0x40;

// Output port.
constexpr uint8_t kOutResetLine = 0x01, kOutA20 = 0x02, kOutKbdObf = 0x10, kOutMouseObf = 0x20,
                  kOutFixedOnes = 0xcc;

// Controller commands.
constexpr uint8_t kReadRamFirst = 0x20, kReadRamLast = 0x3f, kWriteRamFirst = 0x60,
                  kWriteRamLast = 0x7f, kPasswordTest = 0xa4, kDisableMouse = 0xa7,
                  kEnableMouse = 0xa8, kTestMouseIf = 0xa9, kSelfTest = 0xaa, kTestKbdIf = 0xab,
                  kDisableKbd = 0xad, kEnableKbd = 0xae, kReadInputPort = 0xc0,
                  kReadOutputPort = 0xd0, kWriteOutputPort = 0xd1, kWriteKbdBuffer = 0xd2,
                  kWriteMouseBuffer = 0xd3, kWriteToMouse = 0xd4, kDisableA20 = 0xdd,
                  kEnableA20 = 0xdf, kReadTestInputs = 0xe0, kPulseFirst = 0xf0;

constexpr uint8_t kSelfTestOk = 0x55, kInterfaceOk = 0x00, kNoPassword = 0xf1;
constexpr uint8_t kInputPortKeyboardUnlocked = 0x80;
constexpr uint8_t kSet2BreakPrefix = 0xf0;

} // namespace

I8042::I8042(IrqLine& keyboard_irq, IrqLine& mouse_irq, MachineControl& control)
    : keyboard_irq_(keyboard_irq), mouse_irq_(mouse_irq), control_(control) {
    reset();
}

void I8042::reset() {
    std::unique_lock guard(lock_);
    keyboard_.reset();
    mouse_.reset();
    controller_out_.clear();
    ram_.fill(0);
    ram_[0] = kCtrKbdInt | kCtrMouseInt;  // as QEMU: no BIOS ran, translation off
    status_ = kStatusCmd | kStatusKeylock;
    output_port_ = kOutResetLine | kOutA20 | kOutFixedOnes;
    pending_command_ = 0;
    out_byte_ = 0;
    out_full_ = out_from_mouse_ = translate_break_ = false;
    update_irqs();
    reset_requested_ = false;
}

void I8042::post_firmware_state() {
    std::unique_lock guard(lock_);
    ram_[0] = kCtrKbdInt | kCtrMouseDisable | kCtrTranslate;
    update_irqs();
}

uint8_t I8042::command_byte() const {
    std::lock_guard guard(lock_);
    return ram_[0];
}

// Machine control is told after the lock is dropped.
void I8042::finish_access(std::unique_lock<std::mutex>& guard) {
    bool reset = reset_requested_;
    reset_requested_ = false;
    guard.unlock();
    if (!reset) return;
    spdlog::debug("guest reset through the i8042 (command 0xfe)");
    control_.request_reset(ShutdownCause::GuestReset);
}

void I8042::read(uint64_t offset, std::span<uint8_t> data) {
    std::unique_lock guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        uint64_t off = offset + i;
        if (off == kDataOffset) data[i] = read_data();
        else if (off == kCommandOffset) data[i] = read_status();
        else data[i] = 0xff;
    }
    finish_access(guard);
}

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
    std::unique_lock guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        uint64_t off = offset + i;
        if (off == kDataOffset) write_data(data[i]);
        else if (off == kCommandOffset) write_command(data[i]);
    }
    finish_access(guard);
}

uint8_t I8042::read_data() {
    uint8_t v = out_byte_;  // with nothing new, the last byte again (as hardware)
    out_full_ = false;
    update_irqs();  // drop the line so the next byte is a new edge
    refill_output();
    update_irqs();
    return v;
}

uint8_t I8042::read_status() const {
    uint8_t s = status_;
    if (out_full_) s |= out_from_mouse_ ? (kStatusObf | kStatusMouseObf) : kStatusObf;
    return s;  // IBF is never set: input is processed at once
}

void I8042::write_data(uint8_t value) {
    status_ &= uint8_t(~kStatusCmd);
    if (pending_command_) {
        uint8_t cmd = pending_command_;
        pending_command_ = 0;
        command_parameter(cmd, value);
    } else {
        keyboard_.write(value);
    }
    refill_output();
    update_irqs();
}

void I8042::write_command(uint8_t cmd) {
    status_ |= kStatusCmd;
    pending_command_ = 0;
    if (cmd >= kReadRamFirst && cmd <= kReadRamLast) {
        queue_controller(ram_[cmd - kReadRamFirst]);
    } else if ((cmd >= kWriteRamFirst && cmd <= kWriteRamLast) || cmd == kWriteOutputPort ||
               cmd == kWriteKbdBuffer || cmd == kWriteMouseBuffer || cmd == kWriteToMouse) {
        pending_command_ = cmd;
    } else if (cmd >= kPulseFirst) {
        // Pulse output port bits 0-3 whose mask bit is 0; bit 0 is the CPU reset line.
        if (!(cmd & kOutResetLine)) reset_requested_ = true;
    } else {
        switch (cmd) {
        case kPasswordTest: queue_controller(kNoPassword); break;
        case kDisableMouse: ram_[0] |= kCtrMouseDisable; break;
        case kEnableMouse: ram_[0] &= uint8_t(~kCtrMouseDisable); break;
        case kTestMouseIf: queue_controller(kInterfaceOk); break;
        case kSelfTest:
            status_ |= kStatusSys;
            queue_controller(kSelfTestOk);
            break;
        case kTestKbdIf: queue_controller(kInterfaceOk); break;
        case kDisableKbd: ram_[0] |= kCtrKbdDisable; break;
        case kEnableKbd: ram_[0] &= uint8_t(~kCtrKbdDisable); break;
        case kReadInputPort: queue_controller(kInputPortKeyboardUnlocked); break;
        case kReadOutputPort: queue_controller(output_port()); break;
        case kDisableA20: output_port_ &= uint8_t(~kOutA20); break;
        case kEnableA20: output_port_ |= kOutA20; break;
        case kReadTestInputs: queue_controller(0x00); break;
        default:
            if (!logged_unknown_) spdlog::debug("i8042: ignoring controller command {:#04x}", cmd);
            logged_unknown_ = true;
            break;
        }
    }
    refill_output();
    update_irqs();
}

void I8042::command_parameter(uint8_t cmd, uint8_t value) {
    if (cmd >= kWriteRamFirst && cmd <= kWriteRamLast) {
        ram_[cmd - kWriteRamFirst] = value;
        if (cmd == kWriteRamFirst)  // the SYS flag follows command byte bit 2
            status_ = uint8_t((status_ & ~kStatusSys) | (value & kCtrSys));
        return;
    }
    switch (cmd) {
    case kWriteOutputPort: write_output_port(value); break;
    case kWriteKbdBuffer: queue_controller(value, false); break;
    case kWriteMouseBuffer: queue_controller(value, true); break;
    case kWriteToMouse: mouse_.write(value); break;
    default: break;
    }
}

void I8042::write_output_port(uint8_t value) {
    output_port_ = value;
    if (!(value & kOutResetLine)) reset_requested_ = true;  // the line is active low
}

uint8_t I8042::output_port() const {
    uint8_t v = output_port_ & uint8_t(~(kOutKbdObf | kOutMouseObf));
    if (out_full_) v |= out_from_mouse_ ? kOutMouseObf : kOutKbdObf;
    return v;
}

void I8042::queue_controller(uint8_t value, bool aux) { controller_out_.push_back({value, aux}); }

// Moves the next byte into the empty output buffer: controller answers
// first, then the keyboard, then the mouse, each unless disabled.
void I8042::refill_output() {
    if (out_full_) return;
    if (!controller_out_.empty()) {
        out_byte_ = controller_out_.front().value;
        out_from_mouse_ = controller_out_.front().aux;
        controller_out_.pop_front();
        out_full_ = true;
    } else if (!(ram_[0] & kCtrKbdDisable) && take_keyboard_byte(out_byte_)) {
        out_from_mouse_ = false;
        out_full_ = true;
    } else if (!(ram_[0] & kCtrMouseDisable) && mouse_.has_output()) {
        out_byte_ = mouse_.pop_output();
        out_from_mouse_ = true;
        out_full_ = true;
    }
}

// With translation on, set 2's "f0 xx" break becomes set 1's "xx|0x80".
bool I8042::take_keyboard_byte(uint8_t& out) {
    while (keyboard_.has_output()) {
        uint8_t b = keyboard_.pop_output();
        if (!(ram_[0] & kCtrTranslate)) {
            out = b;
            return true;
        }
        if (b == kSet2BreakPrefix) {
            translate_break_ = true;
            continue;
        }
        out = translate_set2_to_set1(b);
        if (translate_break_) out |= 0x80;
        translate_break_ = false;
        return true;
    }
    return false;
}

void I8042::update_irqs() {
    bool kbd = out_full_ && !out_from_mouse_ && (ram_[0] & kCtrKbdInt);
    bool mouse = out_full_ && out_from_mouse_ && (ram_[0] & kCtrMouseInt);
    if (kbd != keyboard_irq_level_) {
        keyboard_irq_level_ = kbd;
        keyboard_irq_.set_level(kbd);
    }
    if (mouse != mouse_irq_level_) {
        mouse_irq_level_ = mouse;
        mouse_irq_.set_level(mouse);
    }
}

void I8042::put_keyboard_bytes(std::span<const uint8_t> set2_bytes) {
    std::unique_lock guard(lock_);
    keyboard_.put_scancodes(set2_bytes);
    refill_output();
    update_irqs();
}

uint8_t I8042::keyboard_scancode_set() const {
    std::lock_guard guard(lock_);
    return keyboard_.scancode_set();
}

void I8042::put_mouse_event(int dx, int dy, int dz, uint8_t buttons) {
    std::unique_lock guard(lock_);
    mouse_.put_event(dx, dy, dz, buttons);
    refill_output();
    update_irqs();
}

} // namespace kestrel
