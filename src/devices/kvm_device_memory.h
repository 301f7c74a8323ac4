#pragma once
// DeviceMemory on a KVM Vm: memory slots for device memory, KVM's dirty
// log, and coalesced MMIO and PIO zones whose queued writes go to the MMIO
// and I/O port buses.
//
// A queued write waits for the next exit of any vCPU, and a guest may
// write and then halt without one (PIIX3's reset at 0xCF9, an e1000's
// RDT before idling): from the first zone on, the main loop also delivers
// the queue every 100 ms.
#include "base/event_loop.h"
#include "base/unique_fd.h"
#include "devices/bus.h"
#include "devices/device_memory.h"
#include "kvm/vm.h"

#include <atomic>
#include <memory>

namespace kestrel {

// Delivers the writes queued in vm's coalesced ring, in order, to the
// I/O port or MMIO bus (a vCPU before it handles an exit, and the timer).
void deliver_coalesced_writes(Vm& vm, Bus& pio, Bus& mmio);

class KvmDeviceMemory final : public DeviceMemory {
public:
    KvmDeviceMemory(Vm& vm, Bus& mmio, Bus& pio, EventLoop& loop);
    ~KvmDeviceMemory() override;

    std::optional<uint32_t> map(uint64_t gpa, uint64_t size, uint8_t* host, bool log_dirty) override {
        return vm_.add_memory_slot(gpa, size, host, log_dirty);
    }
    std::optional<uint32_t> map_read_only(uint64_t gpa, uint64_t size, const uint8_t* host) override {
        return vm_.add_memory_slot(gpa, size, const_cast<uint8_t*>(host), false, true);
    }
    void unmap(uint32_t handle) override { vm_.remove_memory_slot(handle); }
    bool take_dirty(uint32_t handle, std::span<uint64_t> bitmap) override {
        return vm_.take_dirty_log(handle, bitmap);
    }
    bool add_coalesced(uint64_t gpa, uint64_t size) override;
    void remove_coalesced(uint64_t gpa, uint64_t size) override { vm_.remove_coalesced_mmio(gpa, size); }
    bool add_coalesced_pio(uint16_t port, uint16_t size) override;
    void flush_coalesced() override;

private:
    bool zone_added(bool added);
    void start_periodic_flush();

    Vm& vm_;
    Bus& mmio_;
    Bus& pio_;
    EventLoop& loop_;
    UniqueFd flush_timer_;         // loop thread; watched by loop_ once valid
    std::atomic<bool> flush_started_{false};
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace kestrel
