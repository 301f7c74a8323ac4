#include "devices/i8042/ps2_keyboard.h"

namespace kestrel {

namespace {
// Keyboard command bytes.
constexpr uint8_t kSetLeds = 0xed, kCmdEcho = 0xee, kScancodeSet = 0xf0, kIdentify = 0xf2,
                  kTypematic = 0xf3, kEnable = 0xf4, kDisable = 0xf5, kDefaults = 0xf6,
                  kCmdResend = 0xfe, kReset = 0xff;
// Identify answers "MF2 keyboard" (the controller translates 0x83 to 0x41
// when translation is on, which Linux expects).
constexpr uint8_t kId0 = 0xab, kId1 = 0x83;
} // namespace

void Ps2Keyboard::reset() {
    out_.clear();
    awaiting_ = Param::None;
    scanning_ = true;
    scancode_set_ = 2;
    leds_ = 0;
    set_defaults();
    last_sent_ = kAck;
}

void Ps2Keyboard::set_defaults() {
    typematic_ = 0x2b;  // 10.9 characters/s after 500 ms
}

void Ps2Keyboard::send(uint8_t v) { out_.push(v); }

uint8_t Ps2Keyboard::pop_output() {
    last_sent_ = out_.pop();
    return last_sent_;
}

void Ps2Keyboard::write(uint8_t byte) {
    // Parameters are below 0x80; a command byte instead aborts the wait.
    if (awaiting_ != Param::None && byte < 0x80) {
        parameter(byte);
        return;
    }
    awaiting_ = Param::None;
    command(byte);
}

void Ps2Keyboard::command(uint8_t cmd) {
    switch (cmd) {
    case kSetLeds: send(kAck); awaiting_ = Param::Leds; break;
    case kCmdEcho: send(kEcho); break;
    case kScancodeSet: send(kAck); awaiting_ = Param::ScancodeSet; break;
    case kIdentify: send(kAck); send(kId0); send(kId1); break;
    case kTypematic: send(kAck); awaiting_ = Param::Typematic; break;
    case kEnable:
        out_.clear();
        send(kAck);
        scanning_ = true;
        break;
    case kDisable:
        out_.clear();
        send(kAck);
        set_defaults();
        scanning_ = false;
        break;
    case kDefaults: send(kAck); set_defaults(); break;
    case kCmdResend: send(last_sent_); break;
    case kReset:
        reset();
        send(kAck);
        send(kSelfTestPassed);
        break;
    default:
        // 0xf7..0xfd are scancode-set-3 key attribute commands: accepted.
        send(cmd >= 0xf7 && cmd <= 0xfd ? kAck : kResend);
        break;
    }
}

void Ps2Keyboard::parameter(uint8_t value) {
    Param which = awaiting_;
    awaiting_ = Param::None;
    switch (which) {
    case Param::Leds: leds_ = value & 0x07; send(kAck); break;
    case Param::Typematic: typematic_ = value & 0x7f; send(kAck); break;
    case Param::ScancodeSet:
        if (value == 0) {
            send(kAck);
            send(scancode_set_);
        } else if (value <= 3) {
            scancode_set_ = value;
            send(kAck);
        } else {
            send(kResend);
        }
        break;
    case Param::None: break;
    }
}

void Ps2Keyboard::put_scancodes(std::span<const uint8_t> bytes) {
    if (!scanning_) return;
    for (uint8_t b : bytes) send(b);
}

} // namespace kestrel
