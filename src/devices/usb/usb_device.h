#pragma once
// A USB function as a host controller sees it: an address, and
// transactions (SETUP, OUT, IN) on its endpoints, each answered with ACK
// (and data), NAK or STALL. This base class runs the default control pipe
// (endpoint 0: setup, data and status stages) and the standard requests;
// a device describes itself with descriptors and handles its class
// requests and other endpoints.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

namespace usb {
constexpr uint8_t PID_SETUP = 0x2d, PID_IN = 0x69, PID_OUT = 0xe1;
constexpr uint8_t DESC_DEVICE = 1, DESC_CONFIG = 2, DESC_STRING = 3, DESC_INTERFACE = 4, DESC_ENDPOINT = 5;
constexpr uint8_t REQ_GET_STATUS = 0, REQ_CLEAR_FEATURE = 1, REQ_SET_FEATURE = 3, REQ_SET_ADDRESS = 5;
constexpr uint8_t REQ_GET_DESCRIPTOR = 6, REQ_GET_CONFIGURATION = 8, REQ_SET_CONFIGURATION = 9;
constexpr uint8_t REQ_GET_INTERFACE = 10, REQ_SET_INTERFACE = 11;
constexpr uint8_t DIR_IN = 0x80, TYPE_MASK = 0x60, TYPE_STANDARD = 0x00, TYPE_CLASS = 0x20;
constexpr uint8_t RECIPIENT_MASK = 0x1f, RECIPIENT_DEVICE = 0, RECIPIENT_INTERFACE = 1, RECIPIENT_ENDPOINT = 2;
constexpr unsigned FEATURE_REMOTE_WAKEUP = 1;
} // namespace usb

struct UsbSetup {
    uint8_t request_type = 0;
    uint8_t request = 0;
    uint16_t value = 0, index = 0, length = 0;
};

class UsbDevice {
public:
    enum class Status { Ack, Nak, Stall };
    struct Result {
        Status status = Status::Ack;
        size_t length = 0;  // bytes moved (IN: written to the buffer)
    };

    virtual ~UsbDevice() = default;

    // One transaction. `data` holds what the host sends (SETUP, OUT) or
    // room for what the device answers (IN). Serialised by the caller.
    Result transaction(uint8_t pid, uint8_t endpoint, std::span<uint8_t> data);
    // Bus reset (port reset): address 0, unconfigured.
    virtual void reset();

    // Read by the monitor (info usb) while the controller's thread runs.
    uint8_t address() const { return address_.load(std::memory_order_relaxed); }
    bool configured() const { return configuration_ != 0; }
    virtual std::string product() const = 0;  // "QEMU USB Tablet"
    virtual unsigned speed_mbps() const { return 12; }

protected:
    // Descriptors: the device's, the whole configuration, strings (index
    // 1.. ; 0 is the language list).
    virtual std::vector<uint8_t> device_descriptor() const = 0;
    virtual std::vector<uint8_t> config_descriptor() const = 0;
    virtual std::vector<std::string> strings() const = 0;
    // A request the standard ones do not cover (class requests,
    // interface descriptors). Fills `reply` for IN requests; false: STALL.
    virtual bool other_request(const UsbSetup& setup, std::span<const uint8_t> out, std::vector<uint8_t>& reply) = 0;
    // Endpoints other than 0.
    virtual Result data_in(uint8_t endpoint, std::span<uint8_t> buffer) = 0;
    virtual Result data_out(uint8_t endpoint, std::span<const uint8_t> data) {
        (void)endpoint, (void)data;
        return {Status::Stall, 0};
    }
    virtual void configured_changed(bool configured) { (void)configured; }

private:
    enum class Stage { Idle, DataIn, DataOut, StatusIn, StatusOut };
    Result setup_stage(std::span<const uint8_t> packet);
    Result control_in(std::span<uint8_t> buffer);
    Result control_out(std::span<const uint8_t> data);
    bool standard_request(const UsbSetup& setup, std::vector<uint8_t>& reply);
    bool dispatch(const UsbSetup& setup, std::span<const uint8_t> out, std::vector<uint8_t>& reply);

    std::atomic<uint8_t> address_ = 0;
    uint8_t pending_address_ = 0;
    bool address_pending_ = false;
    uint8_t configuration_ = 0;
    bool remote_wakeup_ = false;
    Stage stage_ = Stage::Idle;
    UsbSetup setup_;
    std::vector<uint8_t> buffer_;  // the data stage's bytes
    size_t offset_ = 0;
};

// String descriptor n of `strings` (n = 0: US English only).
std::vector<uint8_t> usb_string_descriptor(const std::vector<std::string>& strings, unsigned index);

} // namespace kestrel
