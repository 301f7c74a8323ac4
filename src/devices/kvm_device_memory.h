#pragma once
// DeviceMemory on a KVM Vm: memory slots for device memory, KVM's dirty
// log, and coalesced MMIO and PIO zones whose queued writes go to the MMIO
// and I/O port buses.
#include "devices/bus.h"
#include "devices/device_memory.h"
#include "kvm/vm.h"

namespace kestrel {

class KvmDeviceMemory final : public DeviceMemory {
public:
    KvmDeviceMemory(Vm& vm, Bus& mmio, Bus& pio) : vm_(vm), mmio_(mmio), pio_(pio) {}

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
    bool add_coalesced(uint64_t gpa, uint64_t size) override { return vm_.add_coalesced_mmio(gpa, size); }
    void remove_coalesced(uint64_t gpa, uint64_t size) override { vm_.remove_coalesced_mmio(gpa, size); }
    bool add_coalesced_pio(uint16_t port, uint16_t size) override { return vm_.add_coalesced_pio(port, size); }
    void flush_coalesced() override {
        vm_.drain_coalesced_mmio([this](Vm::Space space, uint64_t address, std::span<const uint8_t> data) {
            (space == Vm::Space::Pio ? pio_ : mmio_).write(address, data);
        });
    }

private:
    Vm& vm_;
    Bus& mmio_;
    Bus& pio_;
};

} // namespace kestrel
