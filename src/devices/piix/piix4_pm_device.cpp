// PIIX4_PM: ACPI power management at 00:01.3: the PM1 and GPE0 register
// blocks, the SCI, and the power button the monitor presses.
#include "base/service_registry.h"
#include "devices/bus.h"
#include "devices/device_context.h"
#include "devices/pc_layout.h"
#include "devices/pci/pci_function_device.h"
#include "devices/piix/piix4_pm.h"
#include "devices/power_button.h"

namespace kestrel {
namespace {

class Piix4PmDevice final : public PciFunctionDevice, public PowerButton {
public:
    using PciFunctionDevice::PciFunctionDevice;

    // As firmware would leave it: the PM block enabled at QEMU's base.
    void reset() override {
        PciFunctionDevice::reset();
        pm_->program_pm_base(pc::ACPI_PM_BASE);
    }
    void press() override { pm_->press_power_button(); }

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        pm_ = std::make_shared<Piix4Pm>(context.pio(), context.machine(),
                                        borrowed_line(context.isa_irq(pc::ACPI_SCI_IRQ)));
        return pm_;
    }
    void plugged(DeviceContext& context) override {
        context.pio().insert_or_throw(pc::GPE0_BASE, pc::GPE0_LEN, pm_->gpe0_block(), "acpi-gpe0");
        pm_->program_pm_base(pc::ACPI_PM_BASE);
        context.services().add<PowerButton>(*this);
    }

    std::shared_ptr<Piix4Pm> pm_;
};

} // namespace

extern const DeviceType kPiix4PmType = {
    .name = "PIIX4_PM",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Bridge,
    .description = {},
    .properties = {},
    .create = &create_device<Piix4PmDevice>,
    .qom_parent = "pci-device",
    .user_creatable = false,
};

} // namespace kestrel
