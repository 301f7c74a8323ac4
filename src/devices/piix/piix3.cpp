#include "devices/piix/piix3.h"

#include <mutex>
#include <utility>

namespace kestrel {

namespace {
// Power-on values of the device-specific registers (82371SB datasheet,
// as QEMU presents them).
constexpr std::pair<uint16_t, uint8_t> RESET_VALUES[] = {
    {0x4c, 0x4d},  // IORT: ISA I/O recovery timer
    {0x4e, 0x03},  // XBCS: X-bus chip select (RTC, keyboard)
    {0x60, 0x80}, {0x61, 0x80}, {0x62, 0x80}, {0x63, 0x80},  // PIRQRC: disabled
    {0x69, 0x02},  // TOM: top of memory
    {0x70, 0x80},  // MBIRQ0: disabled
    {0x76, 0x0c}, {0x77, 0x0c},  // MBDMA: disabled
    {0x78, 0x02},  // PCSC: programmable chip select
    {0xa0, 0x08},  // SMICNTL
    {0xa8, 0x0f},  // FTMR: fast-off timer
};
} // namespace

Piix3::Piix3(MachineControl& machine, const PirqRouter::IrqLineFactory& isa_irqs)
    : router_(std::make_shared<PirqRouter>(isa_irqs)),
      reset_control_(std::make_shared<ResetControl>(machine)) {
    set_ids({pci::VENDOR_INTEL, DEVICE_ID, 0x00, CLASS_ISA_BRIDGE});
    set_header_type(pci::HEADER_TYPE_MULTIFUNCTION);
    // A bridge to the ISA bus decodes I/O and memory and masters DMA from
    // power-on.
    set_cfg16(pci::COMMAND, pci::COMMAND_IO | pci::COMMAND_MEMORY | pci::COMMAND_MASTER);
    set_cfg16(pci::STATUS, pci::STATUS_DEVSEL_MEDIUM);
    for (auto [offset, value] : RESET_VALUES) set_cfg8(offset, value);
    apply_routes();
}

void Piix3::reset() {
    PciDevice::reset();
    apply_routes();
    reset_control_->reset();
}

void Piix3::config_written(uint16_t offset, unsigned len) {
    if (offset < PIRQ_ROUTE + PirqRouter::PIRQ_COUNT && offset + len > PIRQ_ROUTE) apply_routes();
}

void Piix3::apply_routes() {
    std::lock_guard guard(config_mutex());
    for (unsigned pirq = 0; pirq < PirqRouter::PIRQ_COUNT; ++pirq)
        router_->set_route(pirq, cfg8(uint16_t(PIRQ_ROUTE + pirq)));
}

} // namespace kestrel
