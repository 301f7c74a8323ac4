#pragma once
// The devices of the pc machine and where they sit: PCI host bridge and
// PIIX functions, CMOS RTC, i8042, COM ports, ports 0x80/0x92, ISA IRQs.
#include "chardev/chardev.h"
#include "config/config.h"
#include "devices/bus.h"
#include "base/irq_line.h"
#include "base/event_loop.h"
#include "kvm/guest_memory.h"
#include "base/machine_control.h"
#include "kvm/vm.h"

#include <array>
#include <memory>
#include <vector>

namespace kestrel {

class ChardevSet;
class PciBus;
class Piix3;
class Piix4Pm;
class CmosRtc;
class I8042;
class Serial16550;
class SharedIrqLine;

struct PcBoardSetup {
    const Config& cfg;
    Vm& vm;
    const GuestMemory& memory;
    Bus& pio;
    Bus& mmio;
    EventLoop& loop;
    MachineControl& control;
};

struct PcBoard {
    explicit PcBoard(const PcBoardSetup& setup);
    ~PcBoard();

    // Plugs the COM ports in, each on the chardev its -serial names.
    void connect_serial_ports(ChardevSet& chardevs);
    void reset();
    // ACPI tables into the BIOS area; returns the RSDP address.
    uint64_t write_acpi_tables() const;
    // One input of an ISA IRQ; several devices may share one IRQ.
    IrqLine& isa_irq(unsigned irq);

    PcBoardSetup setup;
    std::array<std::unique_ptr<IrqLine>, 16> irq_outputs;
    std::array<std::unique_ptr<SharedIrqLine>, 16> irqs;
    std::shared_ptr<PciBus> pci;
    std::shared_ptr<Piix3> piix3;
    std::shared_ptr<Piix4Pm> pm;
    std::shared_ptr<CmosRtc> rtc;
    std::shared_ptr<I8042> kbc;
    std::vector<std::shared_ptr<Serial16550>> serials;
    std::vector<std::shared_ptr<BusDevice>> fixed_devices;

private:
    void add_chipset();
    void add_isa_devices();
    void map_io(uint64_t port, uint64_t len, std::shared_ptr<BusDevice> dev);
};

} // namespace kestrel
