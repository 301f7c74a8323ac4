#pragma once
// -netdev tap and -netdev bridge: a Linux tap device (/dev/net/tun), one
// file descriptor per queue, with the virtio_net_hdr in front of frames when
// the kernel has IFF_VNET_HDR. Opened by kestrel (ifname=, the ifup script
// run with the interface name), by the caller (fd=, fds=), or by a bridge
// helper (QEMU's protocol: the helper sends the descriptor over a socket).
// The downscript runs when the backend goes away, as QEMU's does.
#include "base/unique_fd.h"
#include "net/net_backend.h"
#include "net/netdev_config.h"

#include <memory>
#include <string>
#include <vector>

namespace kestrel {

class TapBackend final : public NetBackend {
public:
    // Throws std::runtime_error with QEMU's text (without the location).
    static std::unique_ptr<TapBackend> open(const std::string& id, const TapConfig& config);
    ~TapBackend() override;

    std::string_view type() const override { return "tap"; }
    std::string info(unsigned queue) const override;
    const std::string& ifname() const { return ifname_; }

    unsigned queues() const override { return unsigned(queues_.size()); }
    NetPort& port(unsigned queue) override;

    bool has_vnet_hdr() const override { return vnet_hdr_; }
    void set_vnet_hdr_len(unsigned len) override;
    void set_offloads(const NetOffloads& offloads) override;
    void set_queue_enabled(unsigned queue, bool enabled) override;

    VhostBackendInfo vhost() const override { return {!vhost_fds_.empty(), vhost_force_}; }
    int tap_fd(unsigned queue) const override;
    int vhost_fd(unsigned queue) const override;

private:
    class Queue;
    TapBackend(std::string id, std::vector<UniqueFd> fds, bool vnet_hdr);
    void open_vhost(const TapConfig& config);

    std::string ifname_;
    std::vector<std::string> infos_;  // per queue
    std::string downscript_;     // run at the end with ifname_, if any
    bool vnet_hdr_ = false;      // IFF_VNET_HDR: the kernel puts a header on every frame
    unsigned host_hdr_len_ = kVnetHdrLen;  // its length
    bool using_hdr_ = false;     // the NIC reads and writes the header itself
    bool multiqueue_ = false;
    std::vector<std::unique_ptr<Queue>> queues_;
    std::vector<UniqueFd> vhost_fds_;
    bool vhost_force_ = false;
};

// Runs `script` with `ifname` as its argument and waits; throws
// std::runtime_error "network script S failed with status N".
void run_network_script(const std::string& script, const std::string& ifname, int keep_fd);

} // namespace kestrel
