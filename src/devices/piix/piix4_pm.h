#pragma once
// The PIIX4 power management function at 00:01.3 (82371AB ACPI), with the
// IDs QEMU's pc machine shows. Its PM register block (pc::PM_BLOCK_LEN
// bytes) appears on the I/O bus at the base in PMBA (config 0x40) while
// PMIOSE (config 0x80 bit 0) is set; program_pm_base() does what firmware
// does to get there. The GPE0 block is fixed: the board maps gpe0_block()
// at pc::GPE0_BASE.
#include "devices/pci/pci_device.h"
#include "devices/piix/acpi_pm_regs.h"

#include <memory>

namespace kestrel {

class Piix4Pm : public PciDevice {
public:
    static constexpr uint16_t DEVICE_ID = 0x7113;
    static constexpr uint8_t REVISION = 0x03;
    static constexpr uint32_t CLASS_BRIDGE_OTHER = 0x068000;
    static constexpr uint16_t PMBA = 0x40;       // bits 15:6 base, bit 0 reads 1 (I/O)
    static constexpr uint16_t DEVACTB = 0x58;    // device activity B (bytes 0x58-0x5b)
    static constexpr uint16_t PMREGMISC = 0x80;  // bit 0: PMIOSE, PM I/O space enable
    static constexpr uint16_t SMBBA = 0x90;      // SMBus base; SMBus is not modelled
    static constexpr uint8_t PMIOSE = 0x01;

    // `pio` receives the PM block; `sci` is ISA IRQ pc::ACPI_SCI_IRQ.
    Piix4Pm(Bus& pio, MachineControl& machine, std::shared_ptr<IrqLine> sci, NanoClock clock = {});
    ~Piix4Pm() override;

    // As firmware: PMBA = base, PMIOSE on. The PM block is then mapped at
    // `base` (rounded down to 64 bytes). Call again after a machine reset.
    void program_pm_base(uint16_t base);
    std::optional<uint16_t> pm_base() const;

    std::shared_ptr<BusDevice> gpe0_block() const { return gpe0_; }
    void press_power_button() { regs_->press_power_button(); }
    void raise_gpe(unsigned bit) { regs_->raise_gpe(bit); }
    AcpiPmRegs& registers() { return *regs_; }

    void reset() override;

protected:
    void config_written(uint16_t offset, unsigned len) override;

private:
    void place_pm_block();

    Bus& pio_;
    std::shared_ptr<AcpiPmRegs> regs_;
    std::shared_ptr<AcpiGpe0Block> gpe0_;
    BarMapping pm_block_;
};

} // namespace kestrel
