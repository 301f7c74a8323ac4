#pragma once
// What the machine's vCPU hotplug (device_add/device_del of a CPU) asks of
// the chipset's ACPI CPU hotplug registers (the PIIX4 PM function's, when
// -smp maxcpus= leaves room): tell the guest a CPU was added, ask it to
// eject one, and hear when it did. Main loop thread only.
#include <functional>

namespace kestrel {

class CpuHotplugController {
public:
    virtual ~CpuHotplugController() = default;
    // `index`: the CPU's slot, 0 .. maxcpus - 1 (QEMU's cpu-index).
    virtual void cpu_plugged(unsigned index) = 0;
    // False until the guest switched the registers to their modern mode
    // (QEMU 7.2's PIIX4 refuses a CPU's unplug before).
    virtual bool cpu_unplug_supported() const = 0;
    virtual void request_cpu_unplug(unsigned index) = 0;
    virtual bool cpu_unplug_requested(unsigned index) const = 0;
    // Runs on the main loop for each CPU the guest ejected.
    virtual void on_cpu_eject(std::function<void(unsigned index)> handler) = 0;
};

} // namespace kestrel
