#pragma once
// VirtioNet's private per-queue-pair and control queue state, shared by
// virtio_net.cpp (life cycle, vhost), virtio_net_datapath.cpp and
// virtio_net_ctrl.cpp.
#include "base/unique_fd.h"
#include "net/vhost_net.h"
#include "virtio/net/virtio_net.h"

#include <deque>
#include <memory>
#include <vector>

namespace kestrel {

struct VirtioNet::Pair {
    unsigned index = 0;
    VirtioQueueBinding rx{}, tx{};
    bool has_rx = false, has_tx = false;   // the driver enabled them
    NetPort* port = nullptr;
    int port_fd = -1;                      // the port's rx_fd, watched on the loop
    int port_tx_fd = -1;                   // -1: the port never blocks
    uint32_t port_events = 0;              // what the loop watches on port_fd; 0: not added
    bool tx_port_watched = false;          // port_tx_fd added separately (EPOLLOUT)
    bool userspace = false;                // our loop serves the rings
    bool rx_starved = false;               // no receive buffers: waiting for the driver's kick
    bool tx_blocked = false;               // the backend was full: waiting for it
    bool tx_scheduled = false;             // a continuation of a long burst is posted
    std::deque<VirtqueueChain> held;       // receive buffers taken ahead, unused
    size_t held_bytes = 0;
    bool rx_last_spilled = false;          // the last frame needed more than one buffer
    std::vector<VirtqueueChain> spare;     // chain objects to reuse
    VirtqueueChain tx_chain;
    std::vector<iovec> iov;                // scratch
    std::unique_ptr<VhostNet> vhost;
    UniqueFd rx_call_relay, tx_call_relay; // vhost signals these when the queue has no irqfd
};

struct VirtioNet::Ctrl {
    VirtioQueueBinding binding{};
    VirtqueueChain chain;
};

// Byte helpers over scattered guest buffers.
size_t iov_total(std::span<const iovec> iov);
// Copies up to out.size() bytes starting `offset` bytes in.
size_t iov_read(std::span<const iovec> iov, size_t offset, std::span<uint8_t> out);
size_t iov_write(std::span<const iovec> iov, size_t offset, std::span<const uint8_t> in);
// The part of `iov` from `offset` on, into `out` (cleared first).
void iov_skip(std::span<const iovec> iov, size_t offset, std::vector<iovec>& out);

} // namespace kestrel
