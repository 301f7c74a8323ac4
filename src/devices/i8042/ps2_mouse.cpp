#include "devices/i8042/ps2_mouse.h"

#include <algorithm>

namespace kestrel {

namespace {
constexpr uint8_t kScaling11 = 0xe6, kScaling21 = 0xe7, kSetResolution = 0xe8,
                  kStatusRequest = 0xe9, kStreamMode = 0xea, kReadData = 0xeb, kResetWrap = 0xec,
                  kWrapMode = 0xee, kRemoteMode = 0xf0, kGetId = 0xf2, kSetSampleRate = 0xf3,
                  kEnable = 0xf4, kDisable = 0xf5, kDefaults = 0xf6, kCmdResend = 0xfe,
                  kReset = 0xff;
constexpr uint8_t kIntelliMouseId = 3;
} // namespace

void Ps2Mouse::reset() {
    out_.clear();
    awaiting_ = Param::None;
    wrap_ = false;
    remote_ = false;
    device_id_ = 0;
    set_defaults();
    last_sent_ = kAck;
}

void Ps2Mouse::set_defaults() {
    reporting_ = false;
    scaling_2to1_ = false;
    sample_rate_ = 100;
    resolution_ = 2;  // 4 counts/mm
    dx_ = dy_ = dz_ = 0;
    recent_rates_ = {};
}

uint8_t Ps2Mouse::pop_output() {
    last_sent_ = out_.pop();
    return last_sent_;
}

void Ps2Mouse::write(uint8_t byte) {
    if (wrap_ && byte != kResetWrap && byte != kReset) {
        send(byte);  // wrap (echo) mode
        return;
    }
    if (awaiting_ != Param::None) {
        parameter(byte);
        return;
    }
    command(byte);
}

void Ps2Mouse::command(uint8_t cmd) {
    switch (cmd) {
    case kScaling11: scaling_2to1_ = false; send(kAck); break;
    case kScaling21: scaling_2to1_ = true; send(kAck); break;
    case kSetResolution: send(kAck); awaiting_ = Param::Resolution; break;
    case kStatusRequest:
        send(kAck);
        send(status_byte());
        send(resolution_);
        send(sample_rate_);
        break;
    case kStreamMode: remote_ = false; send(kAck); break;
    case kReadData: send(kAck); send_packet(); break;
    case kResetWrap: wrap_ = false; send(kAck); break;
    case kWrapMode: wrap_ = true; send(kAck); break;
    case kRemoteMode: remote_ = true; send(kAck); break;
    case kGetId: send(kAck); send(device_id_); break;
    case kSetSampleRate: send(kAck); awaiting_ = Param::SampleRate; break;
    case kEnable: reporting_ = true; send(kAck); break;
    case kDisable: reporting_ = false; send(kAck); break;
    case kDefaults: set_defaults(); send(kAck); break;
    case kCmdResend: send(last_sent_); break;
    case kReset:
        reset();
        send(kAck);
        send(kSelfTestPassed);
        send(device_id_);
        break;
    default: send(kResend); break;
    }
}

void Ps2Mouse::parameter(uint8_t value) {
    Param which = awaiting_;
    awaiting_ = Param::None;
    if (which == Param::Resolution) {
        resolution_ = value & 0x03;
        send(kAck);
        return;
    }
    sample_rate_ = value;
    recent_rates_ = {recent_rates_[1], recent_rates_[2], value};
    if (recent_rates_ == std::array<uint8_t, 3>{200, 100, 80}) device_id_ = kIntelliMouseId;
    send(kAck);
}

uint8_t Ps2Mouse::status_byte() const {
    uint8_t s = 0;
    if (remote_) s |= 0x40;
    if (reporting_) s |= 0x20;
    if (scaling_2to1_) s |= 0x10;
    if (buttons_ & kLeft) s |= 0x04;
    if (buttons_ & kMiddle) s |= 0x02;
    if (buttons_ & kRight) s |= 0x01;
    return s;
}

void Ps2Mouse::put_event(int dx, int dy, int dz, uint8_t buttons) {
    dx_ += dx;
    dy_ += dy;
    dz_ += dz;
    buttons_ = buttons & (kLeft | kRight | kMiddle);
    if (!reporting_ || remote_) return;
    // As many packets as the move needs, whole ones only: a packet cut by
    // a full queue would shift the guest's reading of every later one.
    // What does not fit waits for the next event.
    size_t size = device_id_ == kIntelliMouseId ? 4 : 3;
    while (out_.size() + size <= Ps2Queue::kCapacity) {
        send_packet();
        if (dx_ == 0 && dy_ == 0 && dz_ == 0) break;
    }
}

// One movement packet, as much of the move as it holds.
void Ps2Mouse::send_packet() {
    int dx = std::clamp(dx_, -256, 255);
    int dy = std::clamp(dy_, -256, 255);
    int dz = std::clamp(dz_, -8, 7);
    dx_ -= dx;
    dy_ -= dy;
    dz_ -= dz;
    uint8_t b0 = uint8_t(0x08 | buttons_);
    if (dx < 0) b0 |= 0x10;
    if (dy < 0) b0 |= 0x20;
    send(b0);
    send(uint8_t(dx));
    send(uint8_t(dy));
    if (device_id_ == kIntelliMouseId) send(uint8_t(dz & 0x0f));
    else dz_ = 0;
}

} // namespace kestrel
