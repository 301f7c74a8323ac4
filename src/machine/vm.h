#pragma once
// A KVM virtual machine: memory slots, the in-kernel irqchip (PIC, IOAPIC)
// and PIT, GSI routing, and the power-on state of those chips so a machine
// reset can put them back.
#include "devices/irq_line.h"
#include "machine/guest_memory.h"
#include "vcpu/kvm_system.h"

#include "vcpu/kvm_abi.h"
#include <array>
#include <atomic>
#include <memory>
#include <vector>

namespace kestrel {

class Vm {
public:
    Vm(KvmSystem& kvm, const GuestMemory& memory);
    ~Vm();
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    int fd() const { return fd_; }
    KvmSystem& kvm() const { return kvm_; }

    // Level of an irqchip input (GSI). Safe from any thread.
    void set_irq(unsigned gsi, bool level);
    std::unique_ptr<IrqLine> irq_line(unsigned gsi);

    // Puts PIC, IOAPIC and PIT back to their power-on state.
    void reset_irqchip();

    // For the monitor: PIC master, PIC slave, IOAPIC as KVM has them, and
    // how often each GSI was raised ("info irq").
    std::vector<kvm_irqchip> irqchips() const;
    std::vector<uint64_t> irq_counts() const;
    static constexpr unsigned IRQ_STAT_LINES = 24;

private:
    void map_memory(const GuestMemory& memory);
    void setup_gsi_routing();
    void save_power_on_state();

    KvmSystem& kvm_;
    int fd_ = -1;
    std::vector<kvm_irqchip> chips_at_power_on_;
    kvm_pit_state2 pit_at_power_on_{};
    std::array<std::atomic<uint64_t>, IRQ_STAT_LINES> irq_counts_{};
};

} // namespace kestrel
