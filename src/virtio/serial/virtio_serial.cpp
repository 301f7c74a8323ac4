#include "virtio/serial/virtio_serial.h"

#include "base/event_loop.h"
#include "virtio/serial/virtio_serial_bus.h"
#include "virtio/serial/virtio_serial_port.h"

#include <algorithm>
#include <spdlog/spdlog.h>
#include <cstring>
#include <stdexcept>
#include <sys/epoll.h>
#include <unistd.h>

namespace kestrel {

using namespace virtio_serial;

namespace {

EventLoop& checked_loop(const VirtioSerialConfig& config) {
    if (!config.loop) throw std::invalid_argument("virtio-serial: no event loop");
    if (config.max_ports == 0 || config.max_ports > kMaxPortsLimit)
        throw std::invalid_argument("virtio-serial: max_ports out of range");
    return *config.loop;
}

void drain(int fd) {
    uint64_t count;
    [[maybe_unused]] auto r = ::read(fd, &count, sizeof count);
}

} // namespace

VirtioSerial::VirtioSerial(VirtioSerialConfig config)
    : VirtioLoopDevice(checked_loop(config), config.name), config_(std::move(config)) {}

VirtioSerial::~VirtioSerial() { halt(); }

uint64_t VirtioSerial::device_features() const {
    uint64_t f = 1ull << kVirtioFVersion1 | 1ull << kVirtioFRingEventIdx | 1ull << kVirtioFRingIndirectDesc;
    if (config_.max_ports > 1) f |= 1ull << kFeatureMultiport;
    if (config_.emergency_write) f |= 1ull << kFeatureEmergWrite;
    return f;
}

uint16_t VirtioSerial::queue_max_size(unsigned index) const {
    return is_control_queue(index) ? kControlQueueSize : kPortQueueSize;
}

uint32_t VirtioSerial::config_size() const { return config_.emergency_write ? kConfigSizeWithEmergWrite : 8; }

// cols and rows stay 0 (no RESIZE); emerg_wr reads as 0.
void VirtioSerial::read_config(uint64_t offset, std::span<uint8_t> data) {
    uint8_t bytes[kConfigSizeWithEmergWrite] = {};
    const uint32_t max = config_.max_ports;
    std::memcpy(bytes + kConfigMaxPortsOffset, &max, sizeof max);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = offset + i < config_size() ? bytes[offset + i] : 0;
}

// An emergency write: the low byte of emerg_wr goes to port 0's host end.
void VirtioSerial::write_config(uint64_t offset, std::span<const uint8_t> data) {
    if (!config_.emergency_write || offset != kConfigEmergWriteOffset || data.empty()) return;
    Port* port = find(0);
    if (port && port->host.write && data[0] != 0) port->host.write(data.first(1));
}

uint32_t VirtioSerial::add_port(const VirtioSerialPortSpec& spec, VirtioSerialPortHost host) {
    std::vector<VirtioSerialPortSpec> existing = ports();
    check_port_name(spec, existing);
    auto port = std::make_unique<Port>();
    port->state.spec = spec;
    port->state.spec.nr = choose_port_nr(spec, existing, config_.max_ports);
    port->host = std::move(host);
    ports_.push_back(std::move(port));
    const uint32_t nr = ports_.back()->nr();
    if (active_ && multiport_) send_control(nr, kPortAdd, 1);
    return nr;
}

void VirtioSerial::remove_port(uint32_t nr) {
    Port* port = find(nr);
    if (!port) return;
    port->host = {};
    discard_tx(*port);
    if (active_ && multiport_) send_control(nr, kPortRemove, 1);
    std::erase_if(ports_, [&](const std::unique_ptr<Port>& p) { return p.get() == port; });
}

void VirtioSerial::detach_host(uint32_t nr) {
    if (Port* port = find(nr)) port->host = {};
}

std::vector<VirtioSerialPortSpec> VirtioSerial::ports() const {
    std::vector<VirtioSerialPortSpec> out;
    for (const auto& p : ports_) out.push_back(p->state.spec);
    return out;
}

const VirtioSerialPortState* VirtioSerial::port_state(uint32_t nr) const {
    Port* p = find(nr);
    return p ? &p->state : nullptr;
}

VirtioSerial::Port* VirtioSerial::find(uint32_t nr) const {
    for (const auto& p : ports_)
        if (p->nr() == nr) return p.get();
    return nullptr;
}

VirtioSerial::Queue* VirtioSerial::queue(unsigned index) {
    return index < queues_.size() && queues_[index].vq ? &queues_[index] : nullptr;
}

void VirtioSerial::start(VirtioActivation activation) {
    queues_.assign(num_queues(), {});
    multiport_ = activation.driver_features >> kFeatureMultiport & 1;
    for (VirtioQueueBinding& b : activation.queues) {
        if (b.index >= queues_.size()) continue;
        queues_[b.index] = {b.queue, b.notify_fd, std::move(b.interrupt)};
        loop().add_fd(b.notify_fd, EPOLLIN, [this, index = b.index](uint32_t) { on_notify(index); });
    }
    active_ = true;
    // Without multiport the guest cannot say it opened port 0 (QEMU's set_status).
    if (Port* port0 = find(0); port0 && !multiport_) {
        port0->state.guest_connected = true;
        if (port0->host.accept_input) port0->host.accept_input();
    }
    for (unsigned i = 0; i < queues_.size(); ++i)
        if (queues_[i].vq) on_notify(i);  // buffers queued before we watched the eventfds
}

void VirtioSerial::stop() {
    for (Queue& q : queues_)
        if (q.vq) loop().remove_fd(q.notify_fd);
    queues_.clear();
    active_ = false;
    control_out_.clear();
    for (auto& p : ports_) {
        p->holding = false;
        p->held = {};
        p->state.throttled = false;
        if (p->state.guest_connected) set_guest_connected(*p, false);
    }
}

void VirtioSerial::on_notify(unsigned index) {
    Queue* q = queue(index);
    if (!q) return;
    drain(q->notify_fd);
    if (index == kControlTx) return serve_control_tx();
    if (index == kControlRx) return flush_control();
    Port* port = find(port_of_queue(index));
    if (!port) {
        // No port there: what the guest sends is dropped, as QEMU's discard_vq_data.
        if (!is_rx_queue(index)) {
            VirtqueueChain chain;
            while (q->vq->pop(chain) == PopResult::Chain) q->vq->push(chain.head, 0);
            finish(*q);
        }
        return;
    }
    if (is_rx_queue(index)) flush_rx(*port);
    else flush_tx(*port);
}

// After a batch: the interrupt the driver asked for, a reset for a broken ring.
void VirtioSerial::finish(Queue& q) {
    if (q.vq->needs_interrupt() && q.interrupt) q.interrupt();
    if (q.vq->broken()) needs_reset();
}

void VirtioSerial::complain(const std::string& what) {
    if (complained_) return;
    complained_ = true;
    spdlog::warn("{}: {}", name(), what);
}

} // namespace kestrel
