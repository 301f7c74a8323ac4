#pragma once
// A PS/2 mouse on the i8042's auxiliary port: standard 3-byte packets, or
// IntelliMouse 4-byte packets (wheel) once the guest knocks with sample rates
// 200, 100, 80 as Linux's psmouse probe does. Not locked: the controller
// that owns it serialises all calls.
#include "devices/i8042/ps2_queue.h"

#include <array>

namespace kestrel {

class Ps2Mouse {
public:
    static constexpr uint8_t kAck = 0xfa, kResend = 0xfe, kSelfTestPassed = 0xaa;
    // Button bits as in byte 0 of a packet.
    static constexpr uint8_t kLeft = 0x01, kRight = 0x02, kMiddle = 0x04;

    Ps2Mouse() { reset(); }

    void reset();
    void write(uint8_t byte);  // a command or parameter byte (controller command 0xd4)
    // Movement from a UI: dx right, dy up (PS/2 convention), dz wheel.
    // Sent only while reporting is enabled in stream mode; in remote mode it
    // accumulates for the guest's "read data" command.
    void put_event(int dx, int dy, int dz, uint8_t buttons);

    bool has_output() const { return !out_.empty(); }
    uint8_t pop_output();

    uint8_t device_id() const { return device_id_; }
    bool reporting() const { return reporting_; }

private:
    enum class Param { None, SampleRate, Resolution };

    void command(uint8_t cmd);
    void parameter(uint8_t value);
    void set_defaults();
    void send(uint8_t v) { out_.push(v); }
    void send_packet();
    uint8_t status_byte() const;

    Ps2Queue out_;
    Param awaiting_ = Param::None;
    bool reporting_ = false;
    bool remote_ = false;
    bool wrap_ = false;
    bool scaling_2to1_ = false;
    uint8_t sample_rate_ = 100;
    uint8_t resolution_ = 2;
    uint8_t device_id_ = 0;
    uint8_t buttons_ = 0;
    int dx_ = 0, dy_ = 0, dz_ = 0;
    std::array<uint8_t, 3> recent_rates_{};
    uint8_t last_sent_ = kAck;
};

} // namespace kestrel
