#pragma once
// QEMU's hubs (-net, -netdev hubport): every frame a port sends goes to all
// the hub's other ports. A port's peer is a NIC (the port is the NIC's
// backend: HubPort) or a backend (tap, user: the hub reads it on the main
// loop). Frames are copied; -net is QEMU's legacy path, not its fast one.
#include "base/event_loop.h"
#include "net/frame_queue.h"
#include "net/net_backend.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kestrel {

class Hub;

// A hub port a NIC uses as its backend.
class HubPort final : public NetBackend, public NetPort {
public:
    HubPort(std::string name, Hub& hub) : NetBackend(std::move(name)), hub_(hub) {}

    std::string_view type() const override { return "hubport"; }
    std::string info(unsigned) const override;
    NetPort& port(unsigned) override { return *this; }

    int rx_fd() const override { return frames_.fd(); }
    ssize_t receive(std::span<const iovec> iov) override { return ssize_t(frames_.pop(iov)); }
    bool frame_waiting() const override { return !frames_.empty(); }
    ssize_t send(std::span<const iovec> iov) override;
    int tx_fd() const override { return -1; }

    FrameQueue& frames() { return frames_; }

private:
    Hub& hub_;
    FrameQueue frames_;
};

class Hub {
public:
    Hub(int id, EventLoop& loop) : id_(id), loop_(loop) {}
    ~Hub();

    int id() const { return id_; }
    // A port for a NIC (its name: "hub<id>port<n>" unless given).
    HubPort& add_nic_port(const std::string& name);
    // A port whose peer is `backend`: the hub reads its frames on the loop.
    std::string add_backend_port(NetBackend& backend);
    void remove_backend(NetBackend& backend);

    // Sends a frame from `from` (a HubPort or a backend) to every other port.
    void deliver(const void* from, std::span<const iovec> frame);

    struct PortView {
        std::string name;
        HubPort* nic_port;       // or
        NetBackend* backend;
    };
    std::vector<PortView> ports() const;   // creation order
    unsigned port_count() const { return unsigned(ports_.size()); }

private:
    struct Port {
        std::string name;
        std::unique_ptr<HubPort> nic_port;
        NetBackend* backend = nullptr;
    };
    void pump(NetBackend& backend);

    const int id_;
    EventLoop& loop_;
    mutable std::mutex lock_;
    std::vector<Port> ports_;
    std::vector<uint8_t> buffer_ = std::vector<uint8_t>(kMaxFrameSize);
};

} // namespace kestrel
