#include "machine/pc_board.h"

#include "chardev/chardev_set.h"
#include "devices/i8042/i8042.h"
#include "devices/misc_ports/post_code_port.h"
#include "devices/misc_ports/system_control_port_a.h"
#include "devices/pci/pci_bus.h"
#include "devices/pci/pci_config_io.h"
#include "devices/piix/i440fx.h"
#include "devices/piix/piix3.h"
#include "devices/piix/piix4_pm.h"
#include "devices/rtc/cmos_rtc.h"
#include "devices/serial/serial_16550.h"
#include "devices/serial/shared_irq_line.h"
#include "machine/acpi/acpi_tables.h"
#include "kvm/pc_memory_map.h"
#include "devices/pc_layout.h"

#include <stdexcept>

namespace kestrel {
namespace {

// A non-owning shared_ptr for interfaces that take one: the board owns it.
template <typename T> std::shared_ptr<T> borrowed(T& object) {
    return std::shared_ptr<T>(std::shared_ptr<void>{}, &object);
}

constexpr uint64_t PCI_CONFIG_PORT = 0xcf8;
constexpr uint64_t POST_CODE_PORT = 0x80;
constexpr uint64_t PORT_A = 0x92;

} // namespace

PcBoard::PcBoard(const PcBoardSetup& s) : setup(s) {
    for (unsigned irq = 0; irq < 16; ++irq) {
        if (irq == 2) continue;  // the cascade
        irq_outputs[irq] = s.vm.irq_line(irq);
        irqs[irq] = std::make_unique<SharedIrqLine>(*irq_outputs[irq]);
    }
    add_chipset();
    add_isa_devices();
}

PcBoard::~PcBoard() = default;

IrqLine& PcBoard::isa_irq(unsigned irq) {
    if (irq >= 16 || !irqs[irq]) throw std::logic_error("no such ISA IRQ");
    return irqs[irq]->add_input();
}

void PcBoard::map_io(uint64_t port, uint64_t len, std::shared_ptr<BusDevice> dev) {
    if (!setup.pio.insert(port, len, dev)) throw std::logic_error("I/O port range already in use");
    fixed_devices.push_back(std::move(dev));
}

void PcBoard::add_chipset() {
    pci = std::make_shared<PciBus>(setup.pio, setup.mmio);
    auto pirq_line = [this](unsigned irq) -> std::shared_ptr<IrqLine> {
        if (irq >= 16 || !irqs[irq]) return nullptr;
        return borrowed(isa_irq(irq));
    };
    piix3 = std::make_shared<Piix3>(setup.control, pirq_line);
    pm = std::make_shared<Piix4Pm>(setup.pio, setup.control, borrowed(isa_irq(pc::ACPI_SCI_IRQ)));
    if (!pci->add_device(0, 0, std::make_shared<I440fxHost>()) || !pci->add_device(1, 0, piix3) ||
        !pci->add_device(1, 3, pm))
        throw std::logic_error("chipset PCI addresses taken");
    pci->set_intx_router(piix3->intx_router());
    map_io(PCI_CONFIG_PORT, 8, std::make_shared<PciConfigIo>(*pci, piix3->reset_control()));
    map_io(pc::GPE0_BASE, pc::GPE0_LEN, pm->gpe0_block());
    pm->program_pm_base(pc::ACPI_PM_BASE);
}

void PcBoard::add_isa_devices() {
    rtc = std::make_shared<CmosRtc>(isa_irq(CmosRtc::kIrq), setup.loop, setup.cfg.rtc);
    rtc->set_memory_size(setup.memory.below_4g(), setup.memory.above_4g());
    rtc->set_cpu_count(setup.cfg.smp.cpus);
    map_io(CmosRtc::kPort, CmosRtc::kLength, rtc);

    kbc = std::make_shared<I8042>(isa_irq(I8042::kKeyboardIrq), isa_irq(I8042::kMouseIrq), setup.control);
    map_io(I8042::kDataPort, 1, kbc);
    map_io(I8042::kCommandPort, 1, std::make_shared<I8042CommandPort>(kbc));

    map_io(POST_CODE_PORT, 1, std::make_shared<PostCodePort>());
    map_io(PORT_A, 1, std::make_shared<SystemControlPortA>(setup.control));
}

void PcBoard::connect_serial_ports(ChardevSet& chardevs) {
    const auto& serial_ids = setup.cfg.serials;
    for (size_t i = 0; i < serial_ids.size() && i < kComPorts.size(); ++i) {
        auto uart = std::make_shared<Serial16550>(&chardevs.claim(serial_ids[i]), isa_irq(kComPorts[i].irq));
        map_io(kComPorts[i].base, kSerialPortCount, uart);
        serials.push_back(uart);
    }
}

uint64_t PcBoard::write_acpi_tables() const {
    AcpiConfig acpi;
    acpi.smp = setup.cfg.smp;
    for (size_t i = 0; i < setup.cfg.serials.size() && i < kComPorts.size(); ++i) acpi.serial_ports |= 1u << i;
    return build_acpi_tables(setup.memory, acpi);
}

void PcBoard::reset() {
    pci->reset();
    pm->program_pm_base(pc::ACPI_PM_BASE);
    rtc->reset();
    kbc->reset();
    for (auto& uart : serials) uart->reset();
}

} // namespace kestrel
