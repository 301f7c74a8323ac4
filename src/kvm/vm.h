#pragma once
// A KVM virtual machine: memory slots (guest RAM, and device memory such as
// VRAM mapped at run time, with dirty logging), coalesced MMIO, the
// in-kernel irqchip (PIC, IOAPIC) and PIT, GSI routing, and the power-on
// state of those chips so a machine reset can put them back.
#include "base/irq_line.h"
#include "base/unique_fd.h"
#include "kvm/guest_memory.h"
#include "kvm/kvm_system.h"

#include "kvm/kvm_abi.h"
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <vector>

namespace kestrel {

class Vm {
public:
    // With `shadowed_bios_area`, RAM's slots leave 0xc0000-0xfffff out: the
    // i440FX's PAM registers decide what the guest sees there (PamMemory).
    Vm(KvmSystem& kvm, const GuestMemory& memory, bool shadowed_bios_area = false);  // throws std::runtime_error
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
    // -overcommit cpu-pm=on: the guest's HLT, MWAIT, PAUSE and C-states do
    // not exit to KVM (KVM_CAP_X86_DISABLE_EXITS); before any vCPU exists.
    // Logs QEMU's error, as QEMU goes on, when KVM refuses.
    void disable_power_exits();

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

    // --- Device memory slots (any thread) ---
    // Maps `size` bytes of host memory at guest address `gpa` (both page
    // aligned); with `log_dirty`, KVM records the pages the guest writes. A
    // `read_only` slot reads from `host`; the guest's writes exit as MMIO.
    // Returns the slot, or nullopt if KVM refuses (the reason is logged).
    std::optional<uint32_t> add_memory_slot(uint64_t gpa, uint64_t size, uint8_t* host, bool log_dirty,
                                            bool read_only = false);
    void remove_memory_slot(uint32_t slot);
    // Bit i of `bitmap` (one bit per 4 KiB page of the slot, 64 per word)
    // is set for every page written since the last call; KVM clears its
    // log. False if the slot does not log or `bitmap` is too small.
    bool take_dirty_log(uint32_t slot, std::span<uint64_t> bitmap);

    // --- Coalesced MMIO and PIO ---
    // Guest writes to [gpa, gpa+size) no longer exit: KVM queues them in a
    // ring that drain_coalesced_writes() delivers in order. Reads still exit.
    bool add_coalesced_mmio(uint64_t gpa, uint64_t size);
    void remove_coalesced_mmio(uint64_t gpa, uint64_t size);
    // The same for writes to I/O ports [port, port+size), where KVM has
    // KVM_CAP_COALESCED_PIO (false where it has not).
    bool add_coalesced_pio(uint16_t port, uint16_t size);
    // The ring as a vCPU's mapping shows it (page KVM_CAP_COALESCED_MMIO of
    // the run area); the first vCPU sets it. Nothing is queued before.
    void set_coalesced_ring(void* ring) { coalesced_ring_ = static_cast<kvm_coalesced_mmio_ring*>(ring); }
    // Hands every queued write to `deliver` in guest order. Any thread;
    // callers are serialised, so a write queued before a vCPU's exit is
    // delivered before that exit is handled.
    enum class Space { Mmio, Pio };
    using CoalescedWriter = std::function<void(Space space, uint64_t address, std::span<const uint8_t> data)>;
    void drain_coalesced_writes(const CoalescedWriter& deliver);

private:
    bool commit_routes_locked();
    void map_memory(const GuestMemory& memory, bool shadowed_bios_area);
    void setup_gsi_routing();
    void save_power_on_state();

    KvmSystem& kvm_;
    UniqueFd fd_;
    std::vector<kvm_irqchip> chips_at_power_on_;
    kvm_pit_state2 pit_at_power_on_{};
    std::array<std::atomic<uint64_t>, IRQ_STAT_LINES> irq_counts_{};

    std::mutex slots_lock_;
    uint32_t ram_slots_ = 0;                   // RAM holds slots [0, ram_slots_)
    std::map<uint32_t, uint64_t> device_slots_;  // slot -> size in bytes
    std::set<uint32_t> logged_slots_;
    std::mutex coalesced_lock_;
    kvm_coalesced_mmio_ring* coalesced_ring_ = nullptr;

    std::mutex routes_lock_;
    std::vector<kvm_irq_routing_entry> irqchip_routes_;
    std::map<unsigned, kvm_irq_routing_entry> msi_routes_;  // by GSI
};

} // namespace kestrel
