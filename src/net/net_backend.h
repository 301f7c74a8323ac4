#pragma once
// The interface between NICs (virtio-net, e1000) and network backends (tap,
// bridge, user networking, hubs). A backend has one or more queues; each is
// a NetPort a NIC thread moves Ethernet frames through. A frame may carry a
// virtio_net_hdr in front when the backend supports one and the NIC asked
// for it (set_vnet_hdr_len), so that checksum and segmentation offloads pass
// through a tap untouched.
//
// Threads: one NIC thread uses a port at a time; ports of different queues
// may be used concurrently. Configuration calls (vnet header, offloads,
// queue enabling) come from the NIC's thread while its datapath is quiet.
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <sys/uio.h>

namespace kestrel {

class EventLoop;

struct NetOffloads {
    bool csum = false;  // the NIC takes frames with a partial checksum
    bool tso4 = false, tso6 = false, ecn = false, ufo = false;
    bool operator==(const NetOffloads&) const = default;
};

// Largest frame a backend hands over: 64 KiB of GSO payload plus headers.
inline constexpr size_t kMaxFrameSize = 65536 + 4096;
// virtio_net_hdr without and with num_buffers.
inline constexpr unsigned kVnetHdrLen = 10;
inline constexpr unsigned kVnetHdrMrgLen = 12;

class NetPort {
public:
    virtual ~NetPort() = default;

    // Readable while receive() may return a frame.
    virtual int rx_fd() const = 0;
    // Reads one frame into `iov`. Returns its length (a frame longer than
    // the buffers is cut short), 0 when none is waiting, -1 on errors
    // (errno).
    virtual ssize_t receive(std::span<const iovec> iov) = 0;
    // Whether receive() has another frame ready in memory now (a queue's
    // backlog; a tap cannot tell without a read and says false), so that a
    // NIC can put a whole burst into its ring before it interrupts.
    virtual bool frame_waiting() const { return false; }

    // Sends one frame. Returns its length when sent (or dropped by the
    // backend), -1 with errno EAGAIN when the backend cannot take it now:
    // retry once tx_fd() is writable.
    virtual ssize_t send(std::span<const iovec> iov) = 0;
    virtual int tx_fd() const = 0;
};

// A tap's file descriptors for vhost-net: the tap queue and, when the user
// passed one, an opened /dev/vhost-net.
struct VhostBackendInfo {
    bool wanted = false;      // vhost=on, vhostfd(s)= or vhostforce=on
    bool force = false;       // vhostforce=on: also without MSI-X
};

class NetBackend {
public:
    virtual ~NetBackend() = default;

    const std::string& id() const { return id_; }
    // QEMU's NetClientDriver name ("tap", "user", "hubport"), info network's type=.
    virtual std::string_view type() const = 0;
    // The rest of its info network line for one queue
    // ("ifname=tap0,script=no,downscript=no").
    virtual std::string info(unsigned queue) const = 0;

    virtual unsigned queues() const { return 1; }
    // The event loop the backend does its own work on, if it has one (user
    // networking: slirp's sockets and timers). A NIC that may serve its
    // queues on any loop serves them there, so that frames pass between it
    // and the backend without waking another thread.
    virtual EventLoop* service_loop() const { return nullptr; }
    virtual NetPort& port(unsigned queue) = 0;

    // Offloads and the vnet header: only backends that carry virtio_net_hdr.
    virtual bool has_vnet_hdr() const { return false; }
    // The header length in front of frames both ways: 0 (none), 10 or 12.
    virtual void set_vnet_hdr_len(unsigned /*len*/) {}
    virtual void set_offloads(const NetOffloads& /*offloads*/) {}

    // Multiqueue: frames arrive only on enabled queues (all at first).
    virtual void set_queue_enabled(unsigned /*queue*/, bool /*enabled*/) {}

    // vhost-net: a tap's raw descriptor per queue and the vhost-net device
    // opened for it at start-up (-1 for other backends).
    virtual VhostBackendInfo vhost() const { return {}; }
    virtual int tap_fd(unsigned /*queue*/) const { return -1; }
    virtual int vhost_fd(unsigned /*queue*/) const { return -1; }

    // set_link on the backend's side (QEMU's link_down of the netdev);
    // any thread.
    bool link_down() const { return link_down_.load(std::memory_order_relaxed); }
    void set_link_down(bool down) { link_down_.store(down, std::memory_order_relaxed); }

    // The NIC (or hub port) using it; one at a time.
    bool in_use() const { return in_use_; }
    void set_in_use(bool used) { in_use_ = used; }

protected:
    explicit NetBackend(std::string id) : id_(std::move(id)) {}

private:
    std::string id_;
    std::atomic<bool> link_down_{false};
    bool in_use_ = false;
};

} // namespace kestrel
