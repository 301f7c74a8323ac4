#pragma once
// What the machine's vCPU hotplug (device_add/device_del of a CPU) asks of
// the chipset's ACPI CPU hotplug registers (the PIIX4 PM function's, when
// -smp maxcpus= leaves room): tell the guest a CPU was added, ask it to
// eject one, and hear when it did and what its _OST said. Main loop
// thread only.
#include <cstdint>
#include <functional>
#include <vector>

namespace kestrel {

// What the guest's _OST last told of one CPU slot (QEMU's ACPIOSTInfo
// without the device id, which the machine knows): `present` as the CPU
// was when the status was written (an ejected one has none in QEMU).
struct CpuOstReport {
    unsigned index = 0;
    uint32_t source = 0;
    uint32_t status = 0;
    bool present = false;
};

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
    // Runs on the main loop for each OST status the guest writes (its
    // _OST of a CPU), in the order written, after the ejects before it.
    virtual void on_cpu_ost(std::function<void(const CpuOstReport&)> handler) = 0;
    // query-acpi-ospm-status's CPUs: none until the guest left the
    // registers' legacy mode.
    virtual std::vector<CpuOstReport> cpu_ospm_status() const = 0;
};

} // namespace kestrel
