#include "devices/usb/tablet/usb_tablet.h"

#include <algorithm>

namespace kestrel {

namespace {

constexpr uint8_t kReportDescriptor[] = {
    0x05, 0x01,        // Usage Page (Generic Desktop)
    0x09, 0x02,        // Usage (Mouse)
    0xa1, 0x01,        // Collection (Application)
    0x09, 0x01,        //   Usage (Pointer)
    0xa1, 0x00,        //   Collection (Physical)
    0x05, 0x09,        //     Usage Page (Button)
    0x19, 0x01,        //     Usage Minimum (1)
    0x29, 0x03,        //     Usage Maximum (3)
    0x15, 0x00,        //     Logical Minimum (0)
    0x25, 0x01,        //     Logical Maximum (1)
    0x95, 0x03,        //     Report Count (3)
    0x75, 0x01,        //     Report Size (1)
    0x81, 0x02,        //     Input (Data, Variable, Absolute)
    0x95, 0x01,        //     Report Count (1)
    0x75, 0x05,        //     Report Size (5)
    0x81, 0x01,        //     Input (Constant)
    0x05, 0x01,        //     Usage Page (Generic Desktop)
    0x09, 0x30,        //     Usage (X)
    0x09, 0x31,        //     Usage (Y)
    0x15, 0x00,        //     Logical Minimum (0)
    0x26, 0xff, 0x7f,  //     Logical Maximum (32767)
    0x35, 0x00,        //     Physical Minimum (0)
    0x46, 0xff, 0x7f,  //     Physical Maximum (32767)
    0x75, 0x10,        //     Report Size (16)
    0x95, 0x02,        //     Report Count (2)
    0x81, 0x02,        //     Input (Data, Variable, Absolute)
    0x05, 0x01,        //     Usage Page (Generic Desktop)
    0x09, 0x38,        //     Usage (Wheel)
    0x15, 0x81,        //     Logical Minimum (-127)
    0x25, 0x7f,        //     Logical Maximum (127)
    0x35, 0x00,        //     Physical Minimum (0)
    0x45, 0x00,        //     Physical Maximum (0)
    0x75, 0x08,        //     Report Size (8)
    0x95, 0x01,        //     Report Count (1)
    0x81, 0x06,        //     Input (Data, Variable, Relative)
    0xc0,              //   End Collection
    0xc0,              // End Collection
};

constexpr uint8_t HID_GET_REPORT = 0x01, HID_GET_IDLE = 0x02, HID_GET_PROTOCOL = 0x03;
constexpr uint8_t HID_SET_REPORT = 0x09, HID_SET_IDLE = 0x0a, HID_SET_PROTOCOL = 0x0b;
constexpr uint8_t DESC_HID = 0x21, DESC_REPORT = 0x22;

std::array<uint8_t, 6> encode(const TabletReport& r) {
    auto wheel = uint8_t(int8_t(std::clamp(r.wheel, -127, 127)));
    return {r.buttons, uint8_t(r.x), uint8_t(r.x >> 8), uint8_t(r.y), uint8_t(r.y >> 8), wheel};
}

std::vector<uint8_t> hid_descriptor() {
    uint16_t n = sizeof kReportDescriptor;
    return {9, DESC_HID, 0x01, 0x01, 0x00, 1, DESC_REPORT, uint8_t(n), uint8_t(n >> 8)};
}

} // namespace

std::span<const uint8_t> usb_tablet_report_descriptor() { return kReportDescriptor; }

std::vector<uint8_t> UsbTablet::device_descriptor() const {
    return {18,   usb::DESC_DEVICE, 0x10, 0x01,  // USB 1.1
            0,    0,    0,    8,                  // class from the interface, ep0 of 8 bytes
            0x27, 0x06, 0x01, 0x00,               // QEMU's tablet: 0627:0001
            0x00, 0x00, 1,    2,    3,    1};
}

std::vector<uint8_t> UsbTablet::config_descriptor() const {
    std::vector<uint8_t> d = {9, usb::DESC_CONFIG, 34, 0, 1, 1, 4, 0xa0, 50,  // bus powered, remote wakeup, 100 mA
                              9, usb::DESC_INTERFACE, 0, 0, 1, 3, 0, 0, 5};  // HID, no boot protocol
    auto hid = hid_descriptor();
    d.insert(d.end(), hid.begin(), hid.end());
    d.insert(d.end(), {7, usb::DESC_ENDPOINT, 0x81, 0x03, 8, 0, 0x0a});  // interrupt IN, 8 bytes, 10 ms
    return d;
}

std::vector<std::string> UsbTablet::strings() const {
    return {"QEMU", "QEMU USB Tablet", serial_, "HID Tablet", "HID Tablet"};
}

void UsbTablet::reset() {
    UsbDevice::reset();
    std::lock_guard guard(lock_);
    idle_ = 0;
    protocol_ = 1;
    reports_.clear();
    report_state_ = true;  // the first poll after enumeration reports the state
}

bool UsbTablet::other_request(const UsbSetup& s, std::span<const uint8_t>, std::vector<uint8_t>& reply) {
    bool interface = (s.request_type & usb::RECIPIENT_MASK) == usb::RECIPIENT_INTERFACE;
    if ((s.request_type & usb::TYPE_MASK) == usb::TYPE_STANDARD) {
        if (!interface || s.request != usb::REQ_GET_DESCRIPTOR) return false;
        if ((s.value >> 8) == DESC_REPORT) reply.assign(std::begin(kReportDescriptor), std::end(kReportDescriptor));
        if ((s.value >> 8) == DESC_HID) reply = hid_descriptor();
        return !reply.empty();
    }
    if ((s.request_type & usb::TYPE_MASK) != usb::TYPE_CLASS || !interface) return false;
    std::lock_guard guard(lock_);
    switch (s.request) {
    case HID_GET_REPORT: {
        auto r = encode(reports_.state());
        reply.assign(r.begin(), r.end());
        return true;
    }
    case HID_GET_IDLE: reply = {idle_}; return true;
    case HID_GET_PROTOCOL: reply = {protocol_}; return true;
    case HID_SET_IDLE: idle_ = uint8_t(s.value >> 8); return true;
    case HID_SET_PROTOCOL: protocol_ = uint8_t(s.value); return true;
    case HID_SET_REPORT: return true;
    default: return false;
    }
}

UsbDevice::Result UsbTablet::data_in(uint8_t endpoint, std::span<uint8_t> buffer) {
    if (endpoint != 1) return {Status::Stall, 0};
    if (!polled_) {
        polled_ = true;
        if (on_first_poll_) on_first_poll_();
    }
    std::lock_guard guard(lock_);
    TabletReport next;
    if (!reports_.empty()) {
        next = reports_.take();
    } else if (report_state_) {
        next = reports_.state();
    } else {
        return {Status::Nak, 0};
    }
    report_state_ = false;
    auto r = encode(next);
    size_t n = std::min(buffer.size(), r.size());
    std::copy_n(r.begin(), n, buffer.begin());
    return {Status::Ack, n};
}

std::array<uint8_t, 6> UsbTablet::report() const {
    std::lock_guard guard(lock_);
    return encode(reports_.state());
}

void UsbTablet::input_event(const InputEvent& e) {
    std::lock_guard guard(lock_);
    TabletReport& r = reports_.building();
    switch (e.kind) {
    case InputEvent::Kind::Abs: {
        auto v = uint16_t(std::clamp<int64_t>(e.value, 0, InputEvent::kAbsMax));
        (e.axis == InputAxis::X ? r.x : r.y) = v;
        break;
    }
    case InputEvent::Kind::Button: {
        uint8_t bit = e.button == InputButton::Left ? 1 : e.button == InputButton::Right ? 2
                    : e.button == InputButton::Middle ? 4 : 0;
        if (bit) r.buttons = e.down ? uint8_t(r.buttons | bit) : uint8_t(r.buttons & ~bit);
        if (e.down && e.button == InputButton::WheelUp) reports_.add_wheel(1);
        if (e.down && e.button == InputButton::WheelDown) reports_.add_wheel(-1);
        break;
    }
    default: break;
    }
}

void UsbTablet::input_sync() {
    std::lock_guard guard(lock_);
    reports_.sync();
}

} // namespace kestrel
