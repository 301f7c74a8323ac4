#include "devices/piix/piix4_pm.h"

#include "devices/pc_layout.h"

namespace kestrel {

namespace {
constexpr uint16_t PMBA_ADDRESS_MASK = 0xffc0;
constexpr uint8_t DEVACTB_BIOS_SMM_INITED = 0x02;  // byte 0x5b bit 1, as QEMU without SMM

bool covers(uint16_t offset, unsigned len, uint16_t reg, unsigned reg_len) {
    return offset < reg + reg_len && reg < offset + len;
}
} // namespace

Piix4Pm::Piix4Pm(Bus& pio, MachineControl& machine, std::shared_ptr<IrqLine> sci, NanoClock clock)
    : pio_(pio),
      regs_(std::make_shared<AcpiPmRegs>(machine, std::move(sci), std::move(clock))),
      gpe0_(std::make_shared<AcpiGpe0Block>(regs_)),
      pm_block_(BarSpec{pc::PM_BLOCK_LEN, BarKind::Io, false, std::make_shared<AcpiPmBlock>(regs_), "piix4-pm"}) {
    set_ids({pci::VENDOR_INTEL, DEVICE_ID, REVISION, CLASS_BRIDGE_OTHER});
    set_header_type(pci::HEADER_TYPE_NORMAL);
    set_cfg16(pci::STATUS, pci::STATUS_FAST_BACK | pci::STATUS_DEVSEL_MEDIUM);
    set_interrupt_pin(pci::PIN_INTA);

    set_cfg32(PMBA, 0x00000001);
    set_write_mask(PMBA, 4, PMBA_ADDRESS_MASK);
    set_cfg8(DEVACTB + 3, DEVACTB_BIOS_SMM_INITED);
    set_cfg8(PMREGMISC, 0);
    set_write_mask(PMREGMISC, 1, PMIOSE);
    // SMBus is not modelled: base register at its reset value, read-only.
    set_cfg32(SMBBA, 0x00000001);
    set_write_mask(SMBBA, 4, 0);
}

Piix4Pm::~Piix4Pm() {
    std::lock_guard guard(config_mutex());
    pm_block_.move_to(std::nullopt, &pio_);
}

void Piix4Pm::program_pm_base(uint16_t base) {
    config_write(PMBA, 4, base | 1u);
    config_write(PMREGMISC, 1, config_read(PMREGMISC, 1) | PMIOSE);
}

std::optional<uint16_t> Piix4Pm::pm_base() const {
    std::lock_guard guard(config_mutex());
    auto at = pm_block_.mapped_at();
    return at ? std::optional<uint16_t>(uint16_t(*at)) : std::nullopt;
}

void Piix4Pm::config_written(uint16_t offset, unsigned len) {
    if (covers(offset, len, PMBA, 4) || covers(offset, len, PMREGMISC, 1)) place_pm_block();
}

void Piix4Pm::place_pm_block() {
    std::lock_guard guard(config_mutex());
    std::optional<uint64_t> target;
    uint16_t base = cfg16(PMBA) & PMBA_ADDRESS_MASK;
    // Base 0 would put ACPI registers over the DMA controller: treat as off.
    if ((cfg8(PMREGMISC) & PMIOSE) && base != 0) target = base;
    pm_block_.move_to(target, &pio_);
}

void Piix4Pm::reset() {
    PciDevice::reset();
    place_pm_block();
    regs_->reset();
}

} // namespace kestrel
