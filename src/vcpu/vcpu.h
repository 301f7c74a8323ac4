#pragma once
#include "vcpu/mtrr.h"
// One vCPU: its KVM fd and run page, its thread running KVM_RUN, and exit
// dispatch to the port-I/O and MMIO buses. pause() parks the thread outside
// KVM_RUN (a signal kicks it out); resume() lets it run again.
#include "devices/bus.h"
#include "base/machine_control.h"
#include "base/unique_fd.h"
#include "kvm/vm.h"

#include <atomic>
#include <condition_variable>
#include "kvm/kvm_abi.h"
#include <mutex>
#include <thread>
#include <vector>

namespace kestrel {

struct VcpuSetup {
    Vm& vm;
    unsigned index;
    uint32_t apic_id;
    std::vector<kvm_cpuid_entry2> cpuid;
    Bus& pio;
    Bus& mmio;
    MachineControl& control;
    // Where the 32-bit PCI hole starts: the MTRRs mark it uncached.
    uint64_t ram_below_4g = 0;
};

class Vcpu {
public:
    explicit Vcpu(VcpuSetup setup);
    ~Vcpu();
    Vcpu(const Vcpu&) = delete;
    Vcpu& operator=(const Vcpu&) = delete;

    unsigned index() const { return index_; }
    uint32_t apic_id() const { return apic_id_; }
    int fd() const { return fd_.get(); }
    const std::vector<kvm_cpuid_entry2>& cpuid() const { return cpuid_; }
    // The host thread's TID (query-cpus-fast "thread-id"); 0 before start.
    int64_t thread_id() const { return thread_id_.load(); }

    // Power-on state (call while paused). The BSP then gets its boot entry.
    void reset();
    void start_thread();  // starts parked; again after stop_thread (unplugged, then plugged back)
    void request_pause();  // kick without waiting
    void wait_parked();
    void pause() {
        request_pause();
        wait_parked();
    }
    void resume();
    void stop_thread();

    // Installs the kick signal handler; call once before starting threads.
    static void install_kick_handler();

private:
    enum class Want { Run, Pause, Exit };
    void thread_main();
    bool wait_until_runnable();  // false: exit
    void run_once();
    void handle_io();
    void handle_mmio();
    void handle_system_event();
    void report_fatal(const char* what);
    void log_triple_fault();
    void park_self();

    Vm& vm_;
    unsigned index_;
    uint32_t apic_id_;
    std::vector<kvm_cpuid_entry2> cpuid_;
    std::vector<MsrValue> mtrrs_;  // set at every reset; empty without CPUID's MTRR
    Bus& pio_;
    Bus& mmio_;
    MachineControl& control_;
    UniqueFd fd_;  // closed after the run page is unmapped
    kvm_run* run_ = nullptr;
    size_t run_size_ = 0;
    kvm_mp_state mp_state_at_power_on_{};
    kvm_lapic_state lapic_at_power_on_{};
    // The architectural reset state (CS:IP at the reset vector), for a BIOS
    // that runs again after a machine reset.
    kvm_regs regs_at_power_on_{};
    kvm_sregs sregs_at_power_on_{};
    kvm_fpu fpu_at_power_on_{};

    std::thread thread_;
    std::atomic<int64_t> thread_id_{0};
    std::mutex lock_;
    std::condition_variable cv_;
    Want want_ = Want::Pause;
    bool parked_ = true;
};

} // namespace kestrel
