#pragma once
// The PIIX3 PCI-to-ISA bridge function at 00:01.0 (multifunction: the IDE
// and power management functions sit at 01.1 and 01.3). It owns the PIRQ
// route control registers (config 0x60-0x63) that feed the PirqRouter, and
// the Reset Control register at port 0xCF9.
//
// Wiring: pci_bus.set_intx_router(piix3->intx_router()); map
// PciConfigIo(pci_bus, piix3->reset_control()) at 0xCF8, length 8.
#include "devices/pci/pci_device.h"
#include "devices/piix/pirq_router.h"
#include "devices/piix/reset_control.h"
#include "base/machine_control.h"

#include <memory>

namespace kestrel {

class Piix3 : public PciDevice {
public:
    static constexpr uint16_t DEVICE_ID = 0x7000;  // 82371SB PIIX3 ISA bridge
    static constexpr uint32_t CLASS_ISA_BRIDGE = 0x060100;
    static constexpr uint16_t PIRQ_ROUTE = 0x60;   // PIRQRC[A:D], 4 bytes

    Piix3(MachineControl& machine, const PirqRouter::IrqLineFactory& isa_irqs);

    std::shared_ptr<PirqRouter> intx_router() const { return router_; }
    std::shared_ptr<ResetControl> reset_control() const { return reset_control_; }

    void reset() override;

protected:
    void config_written(uint16_t offset, unsigned len) override;

private:
    void apply_routes();

    std::shared_ptr<PirqRouter> router_;
    std::shared_ptr<ResetControl> reset_control_;
};

} // namespace kestrel
