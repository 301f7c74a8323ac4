// A port's data: guest output to the host end (throttled as QEMU's
// do_flush_queued_data) and host input to the guest.
#include "virtio/serial/virtio_serial.h"
#include "virtio/serial/virtio_serial_port.h"

#include <algorithm>
#include <cstring>

namespace kestrel {

using namespace virtio_serial;

void VirtioSerial::host_connected(uint32_t nr, bool connected) {
    Port* port = find(nr);
    if (!port || port->state.host_connected == connected) return;
    port->state.host_connected = connected;
    if (connected) {
        send_control(nr, kPortOpen, 1);
        return flush_tx(*port);
    }
    // As QEMU's virtio_serial_close: what the guest sent and the host did
    // not take is dropped.
    port->state.throttled = false;
    discard_tx(*port);
    send_control(nr, kPortOpen, 0);
}

void VirtioSerial::host_writable(uint32_t nr) {
    Port* port = find(nr);
    if (!port) return;
    port->state.throttled = false;
    flush_tx(*port);
}

bool VirtioSerial::guest_accepts_input(const Port& port) const {
    return active_ && (port.state.guest_connected || !multiport_);
}

size_t VirtioSerial::host_can_receive(uint32_t nr) const {
    Port* port = find(nr);
    if (!port || !guest_accepts_input(*port)) return 0;
    return kInputBuffer - std::min(kInputBuffer, port->input.size());
}

void VirtioSerial::host_input(uint32_t nr, std::span<const uint8_t> data) {
    Port* port = find(nr);
    if (!port) return;
    data = data.first(std::min(data.size(), kInputBuffer - std::min(kInputBuffer, port->input.size())));
    port->input.insert(port->input.end(), data.begin(), data.end());
    flush_rx(*port);
}

void VirtioSerial::flush_rx(Port& port) {
    Queue* q = queue(rx_queue_of(port.nr()));
    if (!q || !guest_accepts_input(port)) return;
    const bool was_full = port.input.size() >= kInputBuffer;
    VirtqueueChain chain;
    size_t taken = 0;
    while (taken < port.input.size()) {
        if (q->vq->pop(chain) != PopResult::Chain) {
            if (q->vq->broken() || !q->vq->enable_notification()) break;
            continue;
        }
        size_t put = 0;
        for (const iovec& b : chain.writable_buffers()) {
            size_t n = std::min(b.iov_len, port.input.size() - taken - put);
            std::memcpy(b.iov_base, port.input.data() + taken + put, n);
            put += n;
        }
        taken += put;
        q->vq->push(chain.head, uint32_t(put));
    }
    port.input.erase(port.input.begin(), port.input.begin() + ptrdiff_t(taken));
    finish(*q);
    if (was_full && taken && port.host.accept_input) port.host.accept_input();
}

void VirtioSerial::discard_tx(Port& port) {
    Queue* q = queue(tx_queue_of(port.nr()));
    if (port.holding && q) q->vq->push(port.held.head, 0);
    port.holding = false;
    port.held = {};
    if (!q) return;
    VirtqueueChain chain;
    while (q->vq->pop(chain) == PopResult::Chain) q->vq->push(chain.head, 0);
    finish(*q);
}

void VirtioSerial::flush_tx(Port& port) {
    Queue* q = queue(tx_queue_of(port.nr()));
    if (!q) return;
    if (!port.state.host_connected || !port.host.write) return discard_tx(port);
    while (!port.state.throttled) {
        if (!port.holding) {
            if (q->vq->pop(port.held) != PopResult::Chain) {
                if (q->vq->broken() || !q->vq->enable_notification()) break;
                continue;
            }
            port.holding = true;
            port.held_buffer = port.held_offset = 0;
        }
        if (!write_held_chain(port)) {
            // A console drops what its host does not take (QEMU: the
            // guest's hvc spins until its buffer comes back).
            if (!port.state.spec.console) {
                port.state.throttled = true;
                break;
            }
        }
        q->vq->push(port.held.head, 0);
        port.holding = false;
    }
    finish(*q);
}

// Gives the host the rest of the held chain in chunks; false when it took
// less than offered (the position is kept).
bool VirtioSerial::write_held_chain(Port& port) {
    std::span<const iovec> buffers = port.held.readable_buffers();
    for (; port.held_buffer < buffers.size(); ++port.held_buffer, port.held_offset = 0) {
        const iovec& b = buffers[port.held_buffer];
        while (port.held_offset < b.iov_len) {
            size_t n = std::min(b.iov_len - port.held_offset, kWriteChunk);
            std::span<const uint8_t> chunk{static_cast<const uint8_t*>(b.iov_base) + port.held_offset, n};
            size_t took = std::min(port.host.write(chunk), n);
            port.held_offset += took;
            if (took < n) return false;
        }
    }
    return true;
}

} // namespace kestrel
