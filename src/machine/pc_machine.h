#pragma once
// The pc machine: KVM VM, guest RAM, vCPUs, the board's devices, and what
// happens when the guest powers off or resets. vCPU threads only record
// requests; the event loop thread acts on them with all vCPUs parked.
#include "config/config.h"
#include "devices/bus.h"
#include "machine/event_loop.h"
#include "machine/guest_memory.h"
#include "machine/machine_control.h"
#include "machine/vm.h"
#include "vcpu/kvm_system.h"
#include "vcpu/vcpu.h"

#include <memory>
#include <vector>

namespace kestrel {

struct PcBoard;
class LinuxImage;

enum class RunState { Prelaunch, Running, Paused, Shutdown };

class PcMachine final : public MachineControl {
public:
    // Reads and checks everything (kernel, initrd, CPU model) before KVM is
    // opened, then builds the machine. Throws std::runtime_error.
    explicit PcMachine(const Config& cfg);
    ~PcMachine() override;

    // Opens chardevs: the first step with effects outside the process.
    void open_backends();
    // Runs until the guest or a signal ends it; returns the exit status.
    int run();

    void request_shutdown(ShutdownCause cause) override;
    void request_reset(ShutdownCause cause) override;

    void pause_vcpus();
    void resume_vcpus();
    RunState state() const { return state_; }
    EventLoop& loop() { return loop_; }

private:
    void create_vcpus();
    void load_boot_state();
    void reset_machine();
    void on_shutdown(ShutdownCause cause);
    void on_reset();
    void watch_signals();
    void on_signal(int signo, int sender_pid);

    const Config& cfg_;
    std::unique_ptr<LinuxImage> kernel_;
    KvmSystem kvm_;
    GuestMemory memory_;
    Vm vm_;
    Bus pio_{"io"};
    Bus mmio_{"memory"};
    EventLoop loop_;
    std::unique_ptr<PcBoard> board_;
    std::vector<std::unique_ptr<Vcpu>> vcpus_;
    RunState state_ = RunState::Prelaunch;
    int exit_status_ = 0;
    int signal_fd_ = -1;
};

} // namespace kestrel
