#pragma once
// virtio-serial (virtio-console, VIRTIO 1.2 §5.3) with QEMU's multiport
// bus: up to max_ports ports, each a pair of queues, announced to the
// guest over the control queues (DEVICE_READY -> PORT_ADD, PORT_READY ->
// CONSOLE_PORT, PORT_NAME, PORT_OPEN). A port's host end (a chardev, see
// devices/virtserialport) plugs in through VirtioSerialPortHost.
//
// Threads: everything runs on the one loop the device is given, which
// must also be the loop its ports' chardevs call back on (the main loop).
//
// Data: guest output goes to the host end only as fast as it takes it: a
// chain the host did not take in full stays popped and the port's
// transmit queue is not read again until the host is writable (QEMU's
// throttling). Host input is taken only while the guest has the port
// open and is held in a small per-port buffer until the guest gives
// receive buffers. Malformed control messages and unknown port ids are
// ignored (logged once); a broken ring asks for a device reset.
#include "virtio/serial/virtio_serial_abi.h"
#include "virtio/virtio_loop_device.h"
#include "virtio/virtqueue.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

struct VirtioSerialConfig {
    EventLoop* loop = nullptr;
    uint32_t max_ports = virtio_serial::kDefaultMaxPorts;
    bool emergency_write = true;
    std::string name = "virtio-serial";
    // The guest opened or closed a port that has a qdev id (VSERPORT_CHANGE).
    std::function<void(const std::string& id, bool open)> on_guest_open;
};

// A port as -device virtserialport/virtconsole describes it.
struct VirtioSerialPortSpec {
    uint32_t nr = virtio_serial::kBadId;
    std::string name;
    bool has_name = false;  // name= given (even empty: QEMU then sends an empty name)
    bool console = false;
    std::string id;
};

// The host end of a port (its chardev).
struct VirtioSerialPortHost {
    // Guest output; returns how much it took. Less than given: the device
    // waits for VirtioSerial::host_writable().
    std::function<size_t(std::span<const uint8_t>)> write;
    // The port can take host input again.
    std::function<void()> accept_input;
    // The guest opened or closed the port.
    std::function<void(bool open)> guest_open;
};

// What the guest sees of a port besides its rings.
struct VirtioSerialPortState {
    VirtioSerialPortSpec spec;
    bool host_connected = false;
    bool guest_connected = false;
    bool throttled = false;
};

class VirtioSerial final : public VirtioLoopDevice {
public:
    explicit VirtioSerial(VirtioSerialConfig config);
    ~VirtioSerial() override;
    VirtioSerial(const VirtioSerial&) = delete;
    VirtioSerial& operator=(const VirtioSerial&) = delete;

    uint16_t device_type() const override { return virtio_serial::kDeviceType; }
    uint64_t device_features() const override;
    unsigned num_queues() const override { return virtio_serial::queue_count(config_.max_ports); }
    uint16_t max_queue_size() const override { return virtio_serial::kPortQueueSize; }
    uint16_t queue_max_size(unsigned index) const override;
    void read_config(uint64_t offset, std::span<uint8_t> data) override;
    void write_config(uint64_t offset, std::span<const uint8_t> data) override;
    uint32_t config_size() const;

    // Adds a port (nr chosen as QEMU does when unset); throws
    // std::runtime_error with QEMU's messages. Returns nr. Loop thread once
    // the guest runs (device_add): a driver that is up hears PORT_ADD.
    uint32_t add_port(const VirtioSerialPortSpec& spec, VirtioSerialPortHost host);
    // Loop thread: the port's device is going (device_del): its transmit
    // buffers come back unused, the guest hears PORT_REMOVE, and its number
    // and name are free again.
    void remove_port(uint32_t nr);
    // The port's device is going (unrealized before the controller): no
    // more calls into it, the controller's own stop() included.
    void detach_host(uint32_t nr);

    // Loop thread: the host end of port `nr`.
    void host_connected(uint32_t nr, bool connected);
    size_t host_can_receive(uint32_t nr) const;
    void host_input(uint32_t nr, std::span<const uint8_t> data);
    void host_writable(uint32_t nr);

    // Loop thread (tests read it between pumps); null for no such port.
    const VirtioSerialPortState* port_state(uint32_t nr) const;
    std::vector<VirtioSerialPortSpec> ports() const;
    size_t pending_control() const { return control_out_.size(); }

    static constexpr size_t kInputBuffer = 4096;    // host input held per port
    static constexpr size_t kWriteChunk = 64 * 1024;

private:
    struct Port;
    struct Queue {
        Virtqueue* vq = nullptr;
        int notify_fd = -1;
        std::function<void()> interrupt;
    };

    void start(VirtioActivation activation) override;
    void stop() override;
    void on_notify(unsigned index);

    // Control (virtio_serial_control.cpp).
    void serve_control_tx();
    void handle_control(std::span<const uint8_t> message);
    void handle_port_control(Port& port, uint16_t event, uint16_t value);
    void port_ready(Port& port);
    void set_guest_connected(Port& port, bool open);
    void send_control(uint32_t id, uint16_t event, uint16_t value, std::string_view text = {});
    void flush_control();
    void complain(const std::string& what);

    // Data (virtio_serial_ports.cpp).
    void flush_tx(Port& port);
    bool write_held_chain(Port& port);
    void discard_tx(Port& port);
    void flush_rx(Port& port);
    bool guest_accepts_input(const Port& port) const;

    Port* find(uint32_t nr) const;
    Queue* queue(unsigned index);
    void finish(Queue& q);

    const VirtioSerialConfig config_;
    std::vector<std::unique_ptr<Port>> ports_;  // in the order they were added
    std::vector<uint32_t> taken_;               // nrs in use, port 0 reserved as QEMU's map

    // Loop thread, valid while serving.
    std::vector<Queue> queues_;
    bool active_ = false;
    bool multiport_ = false;
    std::deque<std::vector<uint8_t>> control_out_;  // messages waiting for control rx buffers
    bool complained_ = false;
};

} // namespace kestrel
