#pragma once
// The pc machine: KVM VM, guest RAM, vCPUs, the board's devices, and what
// happens when the guest powers off or resets. vCPU threads only record
// requests; the event loop thread acts on them with all vCPUs parked.
#include "chardev/chardev_set.h"
#include "config/config.h"
#include "config/user_objects.h"
#include "devices/bus.h"
#include "base/event_loop.h"
#include "kvm/guest_memory.h"
#include "base/machine_control.h"
#include "base/unique_fd.h"
#include "kvm/vm.h"
#include "kvm/kvm_system.h"
#include "machine/boot/linux_boot.h"
#include "machine/smbios/smbios_tables.h"
#include "devices/device_hotplug.h"
#include "vcpu/vcpu.h"
#include "monitor/acpi_ost.h"

#include <future>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <vector>

namespace kestrel {

struct PcBoard;
class BootImage;
class PamMemory;
class EventSink;
struct CpuOstReport;
class Monitors;
class VmController;
class VncServer;
class GuestFwdChardevs;

// QEMU's run states as query-status names them.
enum class RunState { Prelaunch, Running, Paused, SaveVm, Shutdown, GuestPanicked };
const char* run_state_name(RunState state);

class PcMachine final : public MachineControl, public VcpuHotplug {
public:
    // Reads and checks everything (kernel, initrd, CPU model) before KVM is
    // opened, then builds the machine. Throws std::runtime_error.
    explicit PcMachine(const Config& cfg);
    ~PcMachine() override;

    // Opens chardevs and starts the monitors: the first step with effects
    // outside the process.
    void open_backends();
    // -sandbox: the Main filter on every thread, the Io one on iothreads
    // (vCPU threads add theirs when run() starts them). Called once
    // start-up, -chroot and -runas are done. Throws std::runtime_error.
    void enter_sandbox();
    // Runs until the guest or a signal ends it; returns the exit status.
    int run();

    void request_shutdown(ShutdownCause cause) override;
    void request_reset(ShutdownCause cause) override;
    void request_exit(int status) override;
    void report_guest_panic() override;
    void report_guest_crashloaded() override;

    // What the monitors do (loop thread), with QEMU's events and states.
    void stop(RunState to = RunState::Paused);   // to: Paused, or SaveVm for a dump
    void cont();            // throws MonitorError when a reset is needed
    void system_reset();
    void system_powerdown();
    void quit(ShutdownCause cause);

    void pause_vcpus();
    void resume_vcpus();

    // VcpuHotplug (vcpu_hotplug.cpp): device_add of a CPU on the running
    // machine, QEMU's pc_cpu_pre_plug checks first.
    void add_vcpu(const std::vector<qopts::OptPair>& options) override;
    void delete_vcpu(unsigned index) override;
    // query-acpi-ospm-status (vcpu_ost.cpp); nullopt without PIIX4_PM.
    std::optional<std::vector<AcpiOstInfo>> acpi_ospm_status() const;
    RunState state() const { return state_; }
    EventLoop& loop() { return loop_; }
    const Config& config() const { return cfg_; }
    // -smp with the vCPUs device_add plugged since start-up.
    const SmpConfig& smp() const { return smp_; }
    const KvmSystem& kvm() const { return kvm_; }
    // What -cpu asks of every vCPU before KVM filters it (requested_cpuid).
    const std::vector<kvm_cpuid_entry2>& requested_cpuid() const { return requested_cpuid_; }
    const GuestMemory& memory() const { return memory_; }
    std::vector<std::unique_ptr<Vcpu>>& vcpus() { return vcpus_; }
    PcBoard& board() { return *board_; }
    const PcBoard& board() const { return *board_; }
    Vm& vm() { return vm_; }
    Bus& pio() { return pio_; }
    Bus& mmio() { return mmio_; }
    ChardevSet* chardevs() { return chardevs_.get(); }

private:
    // Stops threads, then empties the buses before the devices go (they
    // share ownership of devices that use the board's IRQ lines).
    void tear_down();
    void create_vcpus();
    void create_vcpu(unsigned index);
    void watch_vcpu_ejects();
    void watch_vcpu_ost();
    AcpiOstInfo cpu_ost_info(const CpuOstReport& report) const;
    void remove_vcpu(unsigned index);
    void boot_cpus_changed();
    void load_boot_state();
    std::future<void> start_preloading();
    void reset_machine();
    void on_shutdown(ShutdownCause cause);
    void on_reset(ShutdownCause cause);
    void on_guest_panic();
    void emit(const char* event, const nlohmann::json& data = nlohmann::json::object());
    void watch_signals();
    void start_vnc();
    void build_smbios();
    void on_signal(int signo, int sender_pid);

    const Config& cfg_;
    std::unique_ptr<BootImage> kernel_;
    std::vector<uint8_t> firmware_;  // the BIOS image until PamMemory maps it
    KvmSystem kvm_;
    GuestMemory memory_;
    // The kernel and initrd, copied into guest RAM while the VM, its
    // devices and vCPUs are created (declared here: it starts after RAM
    // exists and ends before RAM goes).
    std::future<void> preloading_;
    Vm vm_;
    std::unique_ptr<PamMemory> pam_;  // firmware boot: the BIOS and PAM routing
    SmbiosTables smbios_;              // built once; a direct boot installs them on every reset
    std::string smbios_bios_version_;  // direct boot: the SeaBIOS version type 0 names
    SmpConfig smp_;
    bool cpu_tables_stale_ = false;  // vCPUs came or went since the boot state's tables were built
    std::vector<kvm_cpuid_entry2> supported_cpuid_;  // what KVM offers kestrel's vCPUs
    std::vector<kvm_cpuid_entry2> requested_cpuid_;
    uint32_t cpuid_version_ = 0, cpuid_features_ = 0;  // CPUID leaf 1 EAX, EDX of vCPU 0
    Bus pio_{"io"};
    Bus mmio_{"memory"};
    EventLoop loop_;
    std::unique_ptr<PcBoard> board_;
    std::unique_ptr<UserObjects> objects_;  // -object secret / memory-backend-*, object-add
    std::vector<std::unique_ptr<Vcpu>> vcpus_;
    // Unplugged vCPUs: KVM keeps a vCPU until the VM goes, so a vCPU
    // plugged back into the slot takes its old one (as QEMU parks them).
    std::vector<std::unique_ptr<Vcpu>> parked_vcpus_;
    std::unique_ptr<VncServer> vnc_;
    std::unique_ptr<ChardevSet> chardevs_;
    std::unique_ptr<GuestFwdChardevs> guestfwd_chardevs_;  // netdev_add's, from chardevs_
    std::unique_ptr<VmController> controller_;
    std::unique_ptr<Monitors> monitors_;
    EventSink* events_ = nullptr;
    RunState state_ = RunState::Prelaunch;
    int exit_status_ = 0;
    bool exit_requested_ = false;  // isa-debug-exit: the first status wins
    UniqueFd signal_fd_;
};

} // namespace kestrel
