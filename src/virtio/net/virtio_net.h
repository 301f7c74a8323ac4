#pragma once
// virtio-net (VIRTIO 1.2 §5.1) on a NetBackend: receive and transmit queue
// pairs (several with multiqueue), the control queue (receive modes, MAC and
// VLAN filters, announce, queue pairs, guest offloads), link status, MTU.
//
// Datapaths: frames move between the rings and the backend's ports on the
// device's own event loop, straight from and into guest buffers (a received
// frame is read into the driver's buffers, several of them with mergeable
// receive buffers; a transmitted one is written from its buffers), or, for
// a tap with vhost, the kernel's vhost-net moves them and this loop only
// serves the control queue. VirtioLoopDevice says how activate(), reset()
// and the destructor meet the loop.
#include "net/net_backend.h"
#include "net/net_nic.h"
#include "net/mac_address.h"
#include "virtio/net/virtio_net_state.h"
#include "virtio/virtio_loop_device.h"
#include "virtio/virtqueue.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kestrel {

class EventLoop;

struct VirtioNetConfig {
    NetBackend* backend = nullptr;   // nullptr: no peer (nothing flows)
    EventLoop* loop = nullptr;       // serves the queues; must outlive the device
    MacAddress mac;
    std::string model = "virtio-net-pci";
    uint16_t max_queue_pairs = 1;    // mq=on: the backend's queues
    uint64_t features = 0;           // the device's own feature bits (properties)
    uint16_t mtu = 0;                // host_mtu=; 0: no VIRTIO_NET_F_MTU
    int32_t speed = -1;              // Mb/s; -1 unknown
    uint8_t duplex = 0xff;           // 0 half, 1 full, 0xff unknown
    uint16_t queue_size = 256;
    bool event_idx = true, indirect_desc = true, any_layout = true;
    std::string name = "virtio-net"; // log prefix
};

class VirtioNet final : public VirtioLoopDevice, public NetNic {
public:
    explicit VirtioNet(VirtioNetConfig config);
    ~VirtioNet() override;
    VirtioNet(const VirtioNet&) = delete;
    VirtioNet& operator=(const VirtioNet&) = delete;

    // VirtioDevice
    uint16_t device_type() const override;
    uint64_t device_features() const override { return features_; }
    unsigned num_queues() const override { return 2u * config_.max_queue_pairs + 1; }
    uint16_t max_queue_size() const override { return config_.queue_size; }
    uint32_t config_size() const;
    void read_config(uint64_t offset, std::span<uint8_t> data) override;
    void write_config(uint64_t offset, std::span<const uint8_t> data) override;

    // NetNic (main loop)
    std::string nic_info() const override;
    unsigned nic_queues() const override { return config_.max_queue_pairs; }
    void link_status_changed() override;
    std::optional<RxFilterInfo> query_rx_filter() override;
    void backend_deleted() override;

    // Frames moved by kestrel's own datapath (not vhost's), for tests and
    // the monitor: loop thread, or any thread while stopped.
    struct Counters {
        uint64_t rx_frames = 0, rx_bytes = 0, rx_dropped = 0;
        uint64_t tx_frames = 0, tx_bytes = 0, tx_dropped = 0;
    };
    Counters counters() const;
    bool vhost_running() const;

private:
    struct Pair;
    struct Ctrl;

    uint64_t compute_features() const;
    void fill_config(uint8_t* out) const;
    bool negotiated(unsigned feature) const { return (driver_features_ >> feature) & 1; }
    unsigned header_len() const;

    // Loop thread: life cycle (virtio_net.cpp).
    void start(VirtioActivation activation) override;
    void stop() override;
    void bind_queues(const VirtioActivation& activation);
    void configure_backend();
    void update_datapath();
    void start_userspace(Pair& pair);
    void stop_userspace(Pair& pair);
    bool start_vhost(Pair& pair);
    void stop_vhost(Pair& pair);
    bool vhost_allowed() const;
    void set_queue_pairs(uint16_t pairs);
    void apply_link();
    void run_on_loop(const std::function<void()>& fn);

    // Receive and transmit (virtio_net_datapath.cpp).
    void watch_port(Pair& pair);
    void process_rx(Pair& pair);
    bool receive_one(Pair& pair);
    ssize_t read_spilling(Pair& pair, bool own_header);
    ssize_t read_other(Pair& pair, bool own_header);
    void held_write(Pair& pair, size_t offset, std::span<const uint8_t> data);
    size_t held_read(const Pair& pair, size_t offset, std::span<uint8_t> out) const;
    bool fill_held(Pair& pair, size_t needed);
    void deliver(Pair& pair, size_t total);
    void give_back_held(Pair& pair);
    bool drop_one(Pair& pair);
    bool port_failed(Pair& pair, ssize_t result);
    void process_tx(Pair& pair);
    void schedule_tx(Pair& pair);
    bool transmit_one(Pair& pair, VirtqueueChain& chain);
    bool accepts(const uint8_t* frame, size_t len) const;

    // Control queue (virtio_net_ctrl.cpp).
    void process_ctrl();
    uint8_t handle_ctrl(uint8_t cls, uint8_t cmd, std::span<const uint8_t> data);
    uint8_t handle_rx_mode(uint8_t cmd, std::span<const uint8_t> data);
    uint8_t handle_mac(uint8_t cmd, std::span<const uint8_t> data);
    uint8_t handle_vlan(uint8_t cmd, std::span<const uint8_t> data);
    uint8_t handle_mq(uint8_t cmd, std::span<const uint8_t> data);
    uint8_t handle_offloads(uint8_t cmd, std::span<const uint8_t> data);

    VirtioNetConfig config_;
    NetBackend* backend_;
    uint64_t features_ = 0;
    uint64_t vhost_features_ = 0;   // what the kernel's vhost-net offers, 0 without

    // Guest-visible state (state_lock_: the loop and the monitor read it,
    // vCPUs read the config space).
    mutable std::mutex state_lock_;
    VirtioNetState state_;

    std::atomic<uint64_t> negotiated_features_{0};  // for vCPUs writing the config space

    // Loop thread, valid while serving.
    uint64_t driver_features_ = 0;
    uint64_t generation_ = 0;        // moves at every start and stop (posted work checks it)
    const GuestMemory* memory_ = nullptr;
    std::vector<std::unique_ptr<Pair>> pairs_;
    std::unique_ptr<Ctrl> ctrl_;
    bool serving_ = false;
    std::vector<uint8_t> bounce_;
    Counters counters_;
    std::shared_ptr<int> alive_token_ = std::make_shared<int>(0);  // for work posted to the loop
};

} // namespace kestrel
