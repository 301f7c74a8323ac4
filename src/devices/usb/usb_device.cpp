#include "devices/usb/usb_device.h"

#include <algorithm>

namespace kestrel {

using namespace usb;

std::vector<uint8_t> usb_string_descriptor(const std::vector<std::string>& strings, unsigned index) {
    if (index == 0) return {4, DESC_STRING, 0x09, 0x04};  // LANGID 0x0409
    if (index > strings.size()) return {};
    const std::string& s = strings[index - 1];
    std::vector<uint8_t> d{uint8_t(std::min<size_t>(2 + 2 * s.size(), 254)), DESC_STRING};
    for (size_t i = 0; i < s.size() && d.size() + 2 <= 254; ++i) {
        d.push_back(uint8_t(s[i]));
        d.push_back(0);
    }
    return d;
}

void UsbDevice::reset() {
    address_ = 0;
    address_pending_ = false;
    if (configuration_) configured_changed(false);
    configuration_ = 0;
    remote_wakeup_ = false;
    stage_ = Stage::Idle;
    buffer_.clear();
}

UsbDevice::Result UsbDevice::transaction(uint8_t pid, uint8_t endpoint, std::span<uint8_t> data) {
    if (endpoint != 0) {
        if (!configured()) return {Status::Stall, 0};
        if (pid == PID_IN) return data_in(endpoint, data);
        if (pid == PID_OUT) return data_out(endpoint, data);
        return {Status::Stall, 0};
    }
    switch (pid) {
    case PID_SETUP: return setup_stage(data);
    case PID_IN: return control_in(data);
    case PID_OUT: return control_out(data);
    default: return {Status::Stall, 0};
    }
}

// A SETUP always starts a new transfer, whatever was going on.
UsbDevice::Result UsbDevice::setup_stage(std::span<const uint8_t> p) {
    if (p.size() != 8) {
        stage_ = Stage::Idle;
        return {Status::Stall, 0};
    }
    setup_ = {p[0], p[1], uint16_t(p[2] | p[3] << 8), uint16_t(p[4] | p[5] << 8), uint16_t(p[6] | p[7] << 8)};
    buffer_.clear();
    offset_ = 0;
    if (setup_.request_type & DIR_IN) {
        std::vector<uint8_t> reply;
        if (!dispatch(setup_, {}, reply)) {
            stage_ = Stage::Idle;
            return {Status::Stall, 8};
        }
        reply.resize(std::min<size_t>(reply.size(), setup_.length));
        buffer_ = std::move(reply);
        stage_ = Stage::DataIn;
    } else if (setup_.length > 0) {
        stage_ = Stage::DataOut;
    } else {
        std::vector<uint8_t> none;
        if (!dispatch(setup_, {}, none)) {
            stage_ = Stage::Idle;
            return {Status::Stall, 8};
        }
        stage_ = Stage::StatusIn;
    }
    return {Status::Ack, 8};
}

UsbDevice::Result UsbDevice::control_in(std::span<uint8_t> buffer) {
    if (stage_ == Stage::DataIn) {
        size_t n = std::min(buffer.size(), buffer_.size() - offset_);
        std::copy_n(buffer_.begin() + long(offset_), n, buffer.begin());
        offset_ += n;
        return {Status::Ack, n};
    }
    if (stage_ == Stage::StatusIn) {  // the host's zero-length IN ends an OUT transfer
        stage_ = Stage::Idle;
        if (address_pending_) {
            address_ = pending_address_;
            address_pending_ = false;
        }
        return {Status::Ack, 0};
    }
    return {Status::Stall, 0};
}

UsbDevice::Result UsbDevice::control_out(std::span<const uint8_t> data) {
    if (stage_ == Stage::DataIn) {  // status stage of an IN transfer
        stage_ = Stage::Idle;
        return {Status::Ack, 0};
    }
    if (stage_ != Stage::DataOut) return {Status::Stall, 0};
    size_t room = setup_.length - buffer_.size();
    buffer_.insert(buffer_.end(), data.begin(), data.begin() + long(std::min(room, data.size())));
    if (buffer_.size() >= setup_.length) {
        std::vector<uint8_t> none;
        if (!dispatch(setup_, buffer_, none)) {
            stage_ = Stage::Idle;
            return {Status::Stall, 0};
        }
        stage_ = Stage::StatusIn;
    }
    return {Status::Ack, data.size()};
}

bool UsbDevice::dispatch(const UsbSetup& setup, std::span<const uint8_t> out, std::vector<uint8_t>& reply) {
    if ((setup.request_type & TYPE_MASK) == TYPE_STANDARD && standard_request(setup, reply)) return true;
    return other_request(setup, out, reply);
}

bool UsbDevice::standard_request(const UsbSetup& s, std::vector<uint8_t>& reply) {
    uint8_t recipient = s.request_type & RECIPIENT_MASK;
    switch (s.request) {
    case REQ_GET_DESCRIPTOR: {
        if (recipient != RECIPIENT_DEVICE) return false;
        uint8_t type = uint8_t(s.value >> 8), index = uint8_t(s.value);
        if (type == DESC_DEVICE) reply = device_descriptor();
        else if (type == DESC_CONFIG && index == 0) reply = config_descriptor();
        else if (type == DESC_STRING) reply = usb_string_descriptor(strings(), index);
        return !reply.empty();
    }
    case REQ_SET_ADDRESS:
        if (recipient != RECIPIENT_DEVICE || s.value > 127) return false;
        pending_address_ = uint8_t(s.value);  // takes effect after the status stage
        address_pending_ = true;
        return true;
    case REQ_SET_CONFIGURATION: {
        if (s.value > 1) return false;
        bool was = configured();
        configuration_ = uint8_t(s.value);
        if (was != configured()) configured_changed(configured());
        return true;
    }
    case REQ_GET_CONFIGURATION: reply = {configuration_}; return true;
    case REQ_GET_STATUS:
        reply = {uint8_t(recipient == RECIPIENT_DEVICE ? (remote_wakeup_ ? 2 : 0) : 0), 0};
        return true;
    case REQ_SET_FEATURE:
    case REQ_CLEAR_FEATURE:
        if (recipient == RECIPIENT_DEVICE && s.value == FEATURE_REMOTE_WAKEUP) {
            remote_wakeup_ = s.request == REQ_SET_FEATURE;
            return true;
        }
        return recipient == RECIPIENT_ENDPOINT;  // endpoint halt: nothing halts here
    case REQ_GET_INTERFACE: reply = {0}; return recipient == RECIPIENT_INTERFACE;
    case REQ_SET_INTERFACE: return recipient == RECIPIENT_INTERFACE && s.value == 0;
    default: return false;
    }
}

} // namespace kestrel
