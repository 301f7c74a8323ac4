// PIIX3: the PCI-to-ISA bridge at 00:01.0. It routes PCI INTx pins to ISA
// IRQs (PIRQ registers), owns isa.0, and the reset control register at
// 0xCF9, which sits inside the host bridge's 0xCF8 address register.
#include "devices/bus.h"
#include "devices/device_context.h"
#include "devices/pc_layout.h"
#include "devices/pci/pci_bus.h"
#include "devices/pci/pci_function_device.h"
#include "devices/piix/piix3.h"

#include <stdexcept>

namespace kestrel {
namespace {

class Piix3Device final : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        auto isa_irq = [&context](unsigned irq) -> std::shared_ptr<IrqLine> {
            if (irq >= 16 || irq == 2) return nullptr;  // 2 is the PIC cascade
            return borrowed_line(context.isa_irq(irq));
        };
        piix3_ = std::make_shared<Piix3>(context.machine(), isa_irq);
        return piix3_;
    }
    void plugged(DeviceContext& context) override {
        context.pci().set_intx_router(piix3_->intx_router());
        if (!context.pio().insert_overlay(pc::RESET_CONTROL_PORT, 1, piix3_->reset_control(), "piix3-reset-control"))
            throw std::runtime_error("PIIX3: I/O port 0xcf9 in use");
    }

    std::shared_ptr<Piix3> piix3_;
};

} // namespace

extern const DeviceType kPiix3Type = {
    .name = "PIIX3",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Bridge,
    .description = {},
    .properties = {},
    .create = &create_device<Piix3Device>,
    .qom_parent = "pci-piix3",
    .user_creatable = false,
    .child_bus = BusKind::Isa,
};

} // namespace kestrel
