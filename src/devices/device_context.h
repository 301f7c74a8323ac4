#pragma once
// What a device realizes against: the address spaces, the PCI bus, ISA
// interrupt lines, guest memory for DMA, the hypervisor's notification
// plumbing, event loops and iothreads, its backends, and the services the
// monitors read. The machine implements it; unit tests fake it.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kestrel {

class BlockBackend;
class Bus;
class Chardev;
class DeviceMemory;
class EventLoop;
class GuestMemory;
class IoPlumbing;
class IrqLine;
class MachineControl;
class PciBus;
class ServiceRegistry;
class Vm;
struct RtcConfig;

// What the board tells the guest about itself through CMOS and firmware.
struct BoardFacts {
    uint64_t ram_below_4g = 0;
    uint64_t ram_above_4g = 0;
    unsigned cpus = 1;       // -smp cpus=
    unsigned boot_cpus = 1;  // vCPUs at start-up: -smp's and -device ones (QEMU's boot_cpus)
    // Every possible vCPU (-smp maxcpus=) by index. With more than `cpus`
    // of them the PIIX4 PM function has the ACPI CPU hotplug registers.
    struct PossibleCpu {
        uint32_t apic_id = 0;
        bool present = false;  // from start-up
    };
    std::vector<PossibleCpu> possible_cpus;
    // A BIOS runs first and initialises option ROMs (the VGA BIOS). Without
    // one kestrel plays their part at reset (the VGA's text mode).
    bool firmware_boot = false;
    // -boot order= and once= (the first boot only): the BIOS's order in CMOS.
    std::string boot_order = "cad";
    std::string boot_once;
};

class DeviceContext {
public:
    virtual ~DeviceContext() = default;

    virtual Bus& pio() = 0;
    virtual Bus& mmio() = 0;
    virtual PciBus& pci() = 0;
    // An input of ISA IRQ `irq`; several devices may share a line (the line
    // is high while any input is). Throws std::invalid_argument for a line
    // the board does not have.
    virtual IrqLine& isa_irq(unsigned irq) = 0;
    virtual const GuestMemory& memory() = 0;
    virtual std::shared_ptr<IoPlumbing> plumbing() = 0;
    // Guest-visible device memory (VRAM) and coalesced MMIO; null where
    // there is no hypervisor (unit tests that do not fake it).
    virtual std::shared_ptr<DeviceMemory> device_memory() = 0;
    virtual MachineControl& machine() = 0;

    virtual EventLoop& main_loop() = 0;
    // The loop of -object iothread `id`; for an empty id, a thread of the
    // device's own called `thread_name`. Throws ConfigError for an unknown id.
    virtual EventLoop& io_loop(const std::string& id, const std::string& thread_name) = 0;

    // Hands the device the chardev with this id once the machine has
    // opened its chardevs, after every device is realized: opening them
    // has effects outside the process, so it waits until start-up cannot
    // fail any more. Nothing happens for an empty id.
    virtual void use_chardev(const std::string& id, std::function<void(Chardev&)> connect) = 0;
    // Opens the -drive with this id for the device at QOM path `qdev`.
    // Throws std::runtime_error "<-drive ...>: <reason>". Null for a drive
    // without medium (an empty CD-ROM drive).
    virtual std::shared_ptr<BlockBackend> drive(const std::string& id, const std::string& qdev) = 0;

    virtual const BoardFacts& board() = 0;
    virtual const RtcConfig& rtc() = 0;
    virtual ServiceRegistry& services() = 0;
    // The KVM VM, for the devices that are parts of it (kvm-pit); nullptr
    // where there is none (unit tests).
    virtual Vm* kvm_vm() { return nullptr; }
};

} // namespace kestrel
