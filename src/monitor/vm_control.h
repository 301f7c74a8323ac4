#pragma once
// What the monitors (HMP and QMP) may ask of the running machine. The
// machine implements it; unit tests use a fake. Every call comes from the
// event loop thread. Failures a user caused throw MonitorError with the
// QMP error class and QEMU's text.
#include "base/service_registry.h"
#include "block/block_info.h"
#include "chardev/chardev_set.h"
#include "devices/device_tree.h"
#include "kvm/kvm_abi.h"
#include "monitor/acpi_ost.h"
#include "monitor/dump/ram_block.h"
#include "vcpu/cpu_dump_state.h"

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel {

enum class QmpErrorClass { GenericError, CommandNotFound, DeviceNotActive, DeviceNotFound, KVMMissingCap };

struct MonitorError : std::runtime_error {
    MonitorError(QmpErrorClass c, const std::string& desc) : std::runtime_error(desc), error_class(c) {}
    explicit MonitorError(const std::string& desc) : MonitorError(QmpErrorClass::GenericError, desc) {}
    QmpErrorClass error_class;
};

// QEMU's RunState names: "prelaunch", "running", "paused", "shutdown",
// "internal-error", "guest-panicked"; `running` as query-status has it.
struct VmStatus {
    std::string status;
    bool running = false;
};

struct VcpuInfo {
    unsigned index = 0;
    int64_t host_thread_id = 0;   // the vCPU thread's TID
    std::string qom_path;         // "/machine/unattached/device[N]"
    unsigned socket_id = 0, die_id = 0, core_id = 0, thread_id = 0;
    bool halted = false;
    uint64_t pc = 0;              // RIP (for "info cpus")
    uint32_t apic_id = 0;
    bool migratable = true;       // -cpu host|max,migratable=
    std::string cpu_model;        // -cpu's model as written: QOM type "<model>-x86_64-cpu"
    std::vector<kvm_cpuid_entry2> cpuid;            // what the vCPU was given
    std::vector<kvm_cpuid_entry2> requested_cpuid;  // what -cpu asked for (vcpu/cpuid.h)
};

// The vCPUs -smp maxcpus= allows (query-hotpluggable-cpus), present or not.
struct CpuSlot {
    unsigned socket_id = 0, die_id = 0, core_id = 0, thread_id = 0;
    std::string qom_path;         // "" for a vCPU not present
};
struct PossibleCpus {
    std::string type;             // "<model>-x86_64-cpu"
    bool with_die = false;        // dies > 1: QEMU names die-id then
    std::vector<CpuSlot> slots;   // by vCPU index
};

struct PciBarInfo {
    unsigned index = 0;
    bool io = false;
    bool mem64 = false;
    bool prefetchable = false;
    uint64_t address = 0;         // where it decodes now; all ones while it does not
    uint64_t size = 0;
};

struct PciFunctionInfo {
    unsigned bus = 0, slot = 0, function = 0;
    uint16_t vendor_id = 0, device_id = 0;
    uint16_t subsystem_vendor_id = 0, subsystem_id = 0;
    uint8_t class_code = 0, subclass = 0, prog_if = 0, revision = 0;
    uint8_t irq_pin = 0;          // 1 = INTA .. 4 = INTD; 0 none
    uint8_t irq_line = 0;         // config 0x3c as the guest wrote it
    std::string description;      // QEMU's class description ("Host bridge"), "" if it has none
    std::string qdev_id;          // -device id=, "" if none
    std::vector<PciBarInfo> bars;
};


class VmControl {
public:
    virtual ~VmControl() = default;

    virtual std::string name() const = 0;   // -name guest=, "" if none
    virtual std::string uuid() const = 0;   // canonical text; all zeros if none
    virtual VmStatus status() const = 0;
    // The accelerator in use: "kvm"; the none machine's may be "tcg".
    virtual std::string accelerator() const { return "kvm"; }

    // Lifecycle. stop/cont emit STOP/RESUME themselves (only on a change).
    virtual void stop() = 0;
    // Throws MonitorError("Resetting the Virtual Machine is required") in
    // the states QEMU refuses (shutdown, internal-error, guest-panicked).
    virtual void cont() = 0;
    virtual void system_reset() = 0;       // emits RESET
    virtual void system_powerdown() = 0;   // ACPI power button; emits POWERDOWN
    // Ends the process soon, after the caller's reply is written: emits
    // SHUTDOWN {guest:false, reason:"host-qmp-quit"|"host-qmp-..."}.
    virtual void quit() = 0;
    virtual void inject_nmi() = 0;         // NMI to every vCPU

    virtual std::vector<VcpuInfo> cpus() const = 0;
    // No slots: a machine without vCPUs (none), where QEMU refuses to answer.
    virtual PossibleCpus possible_cpus() const { return {}; }
    // query-acpi-ospm-status: every hotplug slot's last _OST; nullopt
    // without an ACPI device (the none machine), where QEMU refuses.
    virtual std::optional<std::vector<AcpiOstInfo>> acpi_ospm_status() const { return std::nullopt; }
    // The CPUID KVM can give a new vCPU (vmm_supported_cpuid); nullopt
    // without KVM (the none machine on tcg).
    virtual std::optional<std::vector<kvm_cpuid_entry2>> supported_cpuid() const { return std::nullopt; }
    // "info registers" for one vCPU, QEMU's layout (RAX=... lines).
    virtual std::string cpu_registers_text(unsigned index) = 0;

    // Guest memory. False when any byte is outside guest RAM (or, for
    // virtual addresses, not mapped in that vCPU's page tables).
    virtual bool read_physical(uint64_t addr, std::span<uint8_t> out) const = 0;
    virtual bool read_virtual(unsigned cpu, uint64_t addr, std::span<uint8_t> out) = 0;

    // dump-guest-memory. read_physical may also be called from the dump's
    // thread (while the machine exists). stop_for_dump: as stop(), with
    // QEMU's "save-vm" state; resume_after_dump: as cont() (never throws).
    virtual std::vector<RamBlock> ram_blocks() const { return {}; }
    virtual std::vector<CpuDumpState> cpu_dump_states() { return {}; }
    virtual void stop_for_dump() { stop(); }
    virtual void resume_after_dump() { cont(); }

    virtual std::vector<PciFunctionInfo> pci_functions() const = 0;
    virtual std::vector<ChardevInfo> chardevs() const = 0;
    // The machine's devices (info qtree, query-pci ids) and the services
    // its subsystems offer (BlockService, ...).
    virtual const DeviceTree& devices() const;
    virtual const ServiceRegistry& services() const;
    // Free-form HMP text for "info pic", "info irq", "info mtree",
    // "info roms" (what = the word after "info").
    virtual std::string info_text(std::string_view what) = 0;

    // HMP "log" / "logfile": -d item list ("none" clears); a -D path.
    // Throw MonitorError with QEMU's text for unknown items.
    virtual void set_log_items(const std::string& items) = 0;
    virtual void set_log_file(const std::string& path) = 0;
};

} // namespace kestrel
