#pragma once
// The e1000's PCI function: the 82540EM core behind BAR 0 (registers) and
// BAR 1 (the IOADDR/IODATA window onto them), INTA, and the receive pump
// that moves frames from the backend into the ring.
//
// Threads: vCPUs access the registers (a transmit runs in the vCPU that
// writes TDT); frames from the backend are received on the main loop. One
// lock guards the core; the main loop reads the backend without it. The
// driver's most frequent write, RDT (buffers posted), takes no lock at all:
// a vCPU that waited for it behind the main loop waited as long as the
// host's scheduler kept the loop off the CPU (1 ms per write, traced). The
// tail goes into posted_tail_ and the core takes it before it receives. A
// frame the ring has no room for waits, and the backend is not read, until
// the driver posts buffers.
//
// RDT's writes need not exit at all (QEMU's e1000 queues them too, and
// most other registers): they are queued in the hypervisor's coalesced
// ring, which any exit of any vCPU delivers first; so are ITR's. Linux's driver writes RDT while it cleans the ring and
// then unmasks interrupts (IMS, an exit), so the tail arrives at the latest
// when the guest is done receiving. The pump, before it waits for buffers,
// delivers the queued writes itself; the board delivers them every 100 ms
// besides (KvmDeviceMemory), for a guest that posts buffers and never exits.
#include "base/unique_fd.h"
#include "devices/e1000/e1000_core.h"
#include "devices/pci/pci_device.h"
#include "net/net_nic.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace kestrel {

class DeviceMemory;
class EventLoop;
class NetBackend;
class NetPort;

class E1000Function final : public PciDevice, public NetNic {
public:
    // `device_memory` may be null (then every RDT write exits).
    E1000Function(const GuestMemory& memory, NetBackend* backend, E1000Core::Options options, EventLoop& loop,
                  std::shared_ptr<DeviceMemory> device_memory);
    ~E1000Function() override;

    // The main loop, once the NIC is registered.
    void start();
    void reset() override;

    // NetNic
    std::string nic_info() const override;
    void link_status_changed() override;
    void backend_deleted() override;

protected:
    void bar_moved(unsigned index, std::optional<uint64_t> old_base, std::optional<uint64_t> new_base) override;

private:
    class Window;

    void access(bool io, uint64_t offset, std::span<uint8_t> out, const std::span<const uint8_t>* in);
    void post_rx_tail(uint32_t value);
    void take_posted_tail();
    void post_pump();
    bool rx_must_wait();
    bool deliver_queued_tail();
    void watch();
    void unwatch();
    void pump();
    bool read_frame();
    void arm_moderation_timer(uint64_t deadline);
    void raise_irq(bool level);
    void release_held_raise();

    const bool vnet_hdr_;   // frames to and from the port carry a virtio_net_hdr
    NetBackend* backend_;
    NetPort* port_;
    EventLoop& loop_;
    std::shared_ptr<DeviceMemory> device_memory_;
    MacAddress mac_;
    std::mutex lock_;
    bool hold_raise_ = false;        // lock_: the pump's frame is not a burst's last
    bool raise_held_ = false;        // lock_: the line is due up at the burst's end
    UniqueFd moderation_timer_;
    bool timer_watched_ = false;
    E1000Core core_;
    std::vector<uint8_t> buffer_;    // the backend's frames land here (main loop)
    size_t pending_len_ = 0;         // a received frame in buffer_ waiting for room
    std::span<const uint8_t> pending() const { return {buffer_.data(), pending_len_}; }
    std::atomic<uint32_t> posted_tail_{0};   // RDT as the guest last wrote it
    std::atomic<bool> rx_waiting_{false};    // pump() waits for buffers
    std::vector<uint64_t> queued_;           // registers whose writes are queued, by address (config lock)
    std::atomic<bool> rdt_queued_{false};    // RDT is among them, for the pump
    bool watching_ = false;          // loop thread
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace kestrel
