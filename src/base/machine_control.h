#pragma once
// What devices may ask of the machine: the guest powered off, asked for a
// reset, or (through a test device) for the VMM to exit with a status. Calls come from vCPU threads; the machine acts on them from its own
// loop (it stops the vCPUs first), so implementations must only record.
namespace kestrel {

// QMP's SHUTDOWN/RESET "reason" names them (see shutdown_reason()).
enum class ShutdownCause { GuestPoweroff, GuestReset, HostQuit, HostSignal, HostUi, HostReset, GuestPanic };

class MachineControl {
public:
    virtual ~MachineControl() = default;
    virtual void request_shutdown(ShutdownCause cause) = 0;
    virtual void request_reset(ShutdownCause cause) = 0;
    // Ends kestrel with exit status `status` at once, without the SHUTDOWN
    // event (QEMU's isa-debug-exit).
    virtual void request_exit(int status) = 0;
    // The guest says it panicked (pvpanic, KVM's crash event): the machine
    // acts as -action panic= says. It loaded a crash kernel: only an event.
    virtual void report_guest_panic() = 0;
    virtual void report_guest_crashloaded() = 0;
};

} // namespace kestrel
