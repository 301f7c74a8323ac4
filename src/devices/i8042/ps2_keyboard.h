#pragma once
// A PS/2 (AT) keyboard as the i8042 sees it: it takes command bytes from the
// host and produces responses and scancodes. Not locked: the controller that
// owns it serialises all calls.
#include "devices/i8042/ps2_queue.h"

#include <span>

namespace kestrel {

class Ps2Keyboard {
public:
    static constexpr uint8_t kAck = 0xfa, kResend = 0xfe, kSelfTestPassed = 0xaa, kEcho = 0xee;

    Ps2Keyboard() { reset(); }

    void reset();                 // power-on state, nothing queued
    void write(uint8_t byte);     // a command or parameter byte from the host
    // Scancodes from a UI (set 2 unless the guest chose another set). Dropped
    // while the guest has scanning disabled.
    void put_scancodes(std::span<const uint8_t> bytes);

    bool has_output() const { return !out_.empty(); }
    uint8_t pop_output();

    uint8_t scancode_set() const { return scancode_set_; }
    uint8_t leds() const { return leds_; }
    bool scanning() const { return scanning_; }

private:
    enum class Param { None, Leds, ScancodeSet, Typematic };

    void command(uint8_t cmd);
    void parameter(uint8_t value);
    void set_defaults();
    void send(uint8_t v);

    Ps2Queue out_;
    Param awaiting_ = Param::None;
    bool scanning_ = true;
    uint8_t scancode_set_ = 2;
    uint8_t leds_ = 0;
    uint8_t typematic_ = 0x2b;
    uint8_t last_sent_ = kAck;
};

} // namespace kestrel
