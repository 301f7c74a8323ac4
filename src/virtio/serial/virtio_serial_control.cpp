// The control queues: the guest's messages (transmit queue) and the
// device's (receive queue), as QEMU's handle_control_message.
#include "virtio/serial/virtio_serial.h"
#include "virtio/serial/virtio_serial_port.h"

#include <algorithm>
#include <cstring>

namespace kestrel {

using namespace virtio_serial;

namespace {

// Messages the guest never gives buffers for are not kept for ever.
constexpr size_t kMaxPendingControl = 1024;

// The first `out.size()` readable bytes of the chain; how many there were.
size_t gather(const VirtqueueChain& chain, std::span<uint8_t> out) {
    size_t got = 0;
    for (const iovec& b : chain.readable_buffers()) {
        size_t n = std::min(b.iov_len, out.size() - got);
        std::memcpy(out.data() + got, b.iov_base, n);
        got += n;
        if (got == out.size()) break;
    }
    return got;
}

size_t scatter(const VirtqueueChain& chain, std::span<const uint8_t> in) {
    size_t put = 0;
    for (const iovec& b : chain.writable_buffers()) {
        size_t n = std::min(b.iov_len, in.size() - put);
        std::memcpy(b.iov_base, in.data() + put, n);
        put += n;
        if (put == in.size()) break;
    }
    return put;
}

} // namespace

void VirtioSerial::serve_control_tx() {
    Queue* q = queue(kControlTx);
    if (!q) return;
    VirtqueueChain chain;
    for (;;) {
        if (q->vq->pop(chain) != PopResult::Chain) {
            if (q->vq->broken() || !q->vq->enable_notification()) break;
            continue;
        }
        uint8_t message[kControlSize];
        size_t len = gather(chain, message);
        q->vq->push(chain.head, 0);
        handle_control({message, len});
        if (!queue(kControlTx)) return;  // the message led to a reset
    }
    finish(*q);
}

void VirtioSerial::handle_control(std::span<const uint8_t> message) {
    if (message.size() < kControlSize) return complain("short control message");
    uint32_t id;
    uint16_t event, value;
    std::memcpy(&id, message.data(), 4);
    std::memcpy(&event, message.data() + 4, 2);
    std::memcpy(&value, message.data() + 6, 2);
    if (event == kDeviceReady) {
        if (!value) return complain("Guest failure in adding device");
        for (const auto& p : ports_) send_control(p->nr(), kPortAdd, 1);
        return;
    }
    Port* port = find(id);
    if (!port) return complain("Unexpected port id " + std::to_string(id));
    handle_port_control(*port, event, value);
}

void VirtioSerial::handle_port_control(Port& port, uint16_t event, uint16_t value) {
    if (event == kPortReady) {
        if (!value) return complain("Guest failure in adding port " + std::to_string(port.nr()));
        return port_ready(port);
    }
    if (event == kPortOpen) set_guest_connected(port, value != 0);
}

// The guest set the port up: it learns what the port is and whether the
// host end is there.
void VirtioSerial::port_ready(Port& port) {
    const VirtioSerialPortSpec& spec = port.state.spec;
    if (spec.console) send_control(spec.nr, kConsolePort, 1);
    if (spec.has_name) send_control(spec.nr, kPortName, 1, spec.name);
    if (port.state.host_connected) send_control(spec.nr, kPortOpen, 1);
    if (port.host.accept_input) port.host.accept_input();
}

void VirtioSerial::set_guest_connected(Port& port, bool open) {
    port.state.guest_connected = open;
    if (port.host.guest_open) port.host.guest_open(open);
    if (!port.state.spec.id.empty() && config_.on_guest_open) config_.on_guest_open(port.state.spec.id, open);
    if (open) flush_rx(port);
    if (open && port.host.accept_input) port.host.accept_input();
}

void VirtioSerial::send_control(uint32_t id, uint16_t event, uint16_t value, std::string_view text) {
    if (!active_) return;
    if (control_out_.size() >= kMaxPendingControl) return complain("control messages dropped: no buffers");
    std::vector<uint8_t> m(kControlSize);
    std::memcpy(m.data(), &id, 4);
    std::memcpy(m.data() + 4, &event, 2);
    std::memcpy(m.data() + 6, &value, 2);
    if (event == kPortName) {
        m.insert(m.end(), text.begin(), text.end());
        m.push_back(0);
    }
    control_out_.push_back(std::move(m));
    flush_control();
}

void VirtioSerial::flush_control() {
    Queue* q = queue(kControlRx);
    if (!q) return;
    VirtqueueChain chain;
    while (!control_out_.empty()) {
        if (q->vq->pop(chain) != PopResult::Chain) {
            if (q->vq->broken() || !q->vq->enable_notification()) break;
            continue;
        }
        q->vq->push(chain.head, uint32_t(scatter(chain, control_out_.front())));
        control_out_.pop_front();
    }
    finish(*q);
}

} // namespace kestrel
