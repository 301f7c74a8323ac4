#pragma once
// A KVM virtual machine: memory slots, the in-kernel irqchip (PIC, IOAPIC)
// and PIT, GSI routing, and the power-on state of those chips so a machine
// reset can put them back.
#include "base/irq_line.h"
#include "base/unique_fd.h"
#include "kvm/guest_memory.h"
#include "kvm/kvm_system.h"

#include "kvm/kvm_abi.h"
#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace kestrel {

class Vm {
public:
    Vm(KvmSystem& kvm, const GuestMemory& memory);  // throws std::runtime_error
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    int fd() const { return fd_.get(); }
    KvmSystem& kvm() const { return kvm_; }

    // Level of an irqchip input (GSI). Safe from any thread.
    void set_irq(unsigned gsi, bool level);
    std::unique_ptr<IrqLine> irq_line(unsigned gsi);

    // Puts PIC, IOAPIC and PIT back to their power-on state.
    void reset_irqchip();
    // Whether the in-kernel PIT delivers the ticks a guest missed while
    // its interrupts were off (QEMU's lost_tick_policy "delay") or drops
    // them ("discard"). False if KVM cannot change it (then it delays).
    bool set_pit_reinject(bool reinject);

    // For the monitor: PIC master, PIC slave, IOAPIC as KVM has them, and
    // how often each GSI was raised ("info irq").
    std::vector<kvm_irqchip> irqchips() const;
    std::vector<uint64_t> irq_counts() const;
    static constexpr unsigned IRQ_STAT_LINES = 24;

    // --- MSI routes, irqfds, ioeventfds (thread-safe) ---
    // GSIs for MSI routes start above the IOAPIC's 24 pins; KVM's table
    // keeps the PIC/IOAPIC entries beside them.
    static constexpr unsigned FIRST_MSI_GSI = 24;
    // Allocates a GSI routed to the MSI message; nullopt if KVM refuses.
    std::optional<unsigned> add_msi_route(uint64_t address, uint32_t data);
    bool update_msi_route(unsigned gsi, uint64_t address, uint32_t data);
    void remove_msi_route(unsigned gsi);
    // One MSI without a route (KVM_SIGNAL_MSI).
    bool signal_msi(uint64_t address, uint32_t data);
    // Writes to eventfd `fd` raise `gsi`.
    bool assign_irqfd(int fd, unsigned gsi);
    void deassign_irqfd(int fd, unsigned gsi);
    // Guest writes of `length` bytes (0 = any length, MMIO only) at
    // `address`, matching `datamatch` if given, signal eventfd `fd` in the
    // kernel instead of exiting to the vCPU thread.
    struct IoEventFd {
        int fd = -1;
        bool pio = false;
        uint64_t address = 0;
        uint32_t length = 0;
        std::optional<uint64_t> datamatch;
    };
    bool assign_ioeventfd(const IoEventFd& ioeventfd);
    void deassign_ioeventfd(const IoEventFd& ioeventfd);

private:
    bool commit_routes_locked();
    void map_memory(const GuestMemory& memory);
    void setup_gsi_routing();
    void save_power_on_state();

    KvmSystem& kvm_;
    UniqueFd fd_;
    std::vector<kvm_irqchip> chips_at_power_on_;
    kvm_pit_state2 pit_at_power_on_{};
    std::array<std::atomic<uint64_t>, IRQ_STAT_LINES> irq_counts_{};

    std::mutex routes_lock_;
    std::vector<kvm_irq_routing_entry> irqchip_routes_;
    std::map<unsigned, kvm_irq_routing_entry> msi_routes_;  // by GSI
};

} // namespace kestrel
