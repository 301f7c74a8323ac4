#pragma once
// A USB HID tablet: absolute pointer positions (0..0x7fff on both axes),
// three buttons and a wheel, reported on an interrupt endpoint: one report
// per input batch, queued until the guest polls (tablet_reports.h). The
// guest's generic HID driver (Linux usbhid) needs nothing else, and a VNC
// client's pointer lines up with the guest's.
#include "devices/usb/tablet/tablet_reports.h"
#include "devices/usb/usb_device.h"
#include "ui/input.h"

#include <array>
#include <functional>
#include <mutex>

namespace kestrel {

class UsbTablet final : public UsbDevice, public InputHandler {
public:
    explicit UsbTablet(std::string serial = "42") : serial_(std::move(serial)) {}

    std::string product() const override { return "QEMU USB Tablet"; }
    void reset() override;
    // The guest started polling: it takes pointer events from now on.
    void set_on_first_poll(std::function<void()> activate) { on_first_poll_ = std::move(activate); }

    // InputHandler
    void input_event(const InputEvent& event) override;
    void input_sync() override;

    // The 6-byte report of the current state (GET_REPORT): buttons, X
    // (LE16), Y (LE16), wheel.
    std::array<uint8_t, 6> report() const;

protected:
    std::vector<uint8_t> device_descriptor() const override;
    std::vector<uint8_t> config_descriptor() const override;
    std::vector<std::string> strings() const override;
    bool other_request(const UsbSetup& setup, std::span<const uint8_t> out, std::vector<uint8_t>& reply) override;
    Result data_in(uint8_t endpoint, std::span<uint8_t> buffer) override;

private:
    std::string serial_;
    std::function<void()> on_first_poll_;
    bool polled_ = false;
    mutable std::mutex lock_;
    TabletReports reports_;
    bool report_state_ = false;  // after a reset: the next poll reports the state
    uint8_t idle_ = 0, protocol_ = 1;
};

// The HID report descriptor of the tablet.
std::span<const uint8_t> usb_tablet_report_descriptor();

} // namespace kestrel
