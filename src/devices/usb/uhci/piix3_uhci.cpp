// piix3-usb-uhci: the PIIX3's USB function (PCI 8086:7020) with two root
// ports. libvirt adds it to every pc domain; -usb puts it at 01.2.
#include "base/event_loop.h"
#include "base/service_registry.h"
#include "devices/device_context.h"
#include "devices/pci/pci_function_device.h"
#include "devices/pci/pci_regs.h"
#include "devices/usb/uhci/uhci.h"

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint32, "bandwidth", 1280),
    prop_uint(PropType::Uint32, "maxframes", 128),
};

class UhciFunction final : public PciDevice {
public:
    explicit UhciFunction(std::shared_ptr<Uhci> hc) : hc_(std::move(hc)) {
        set_ids({0x8086, 0x7020, 0x01, 0x0c0300});
        set_interrupt_pin(pci::PIN_INTD);
        set_cfg8(0x60, 0x10);              // serial bus release number: USB 1.0
        set_cfg16(0xc0, 0x2000);           // legacy support: PIRQ enabled
        set_write_mask(0x60, 1, 0);
        add_bar(4, Uhci::kRegisterBytes, BarKind::Io, false, hc_, "uhci");
    }
    void reset() override {
        PciDevice::reset();
        hc_->reset();
    }

private:
    std::shared_ptr<Uhci> hc_;
};

class Piix3Uhci final : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;

    void unrealize() override {
        if (buses_ && hc_) buses_->remove(*hc_);
    }
    const void* child_bus() const override { return static_cast<const UsbController*>(hc_.get()); }
    std::vector<std::string> child_bus_names() const override { return {bus_name_}; }

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        EventLoop& loop = context.io_loop("", "usb-uhci");
        auto irq = [this](bool level) {
            if (function_) function_->set_irq_level(level);
        };
        hc_ = std::make_shared<Uhci>(context.memory(), irq, loop, unsigned(properties().uint("maxframes")));
        buses_ = context.services().find<UsbBuses>();
        if (buses_) bus_name_ = buses_->add(*hc_, id());
        return std::make_shared<UhciFunction>(hc_);
    }

    std::shared_ptr<Uhci> hc_;
    UsbBuses* buses_ = nullptr;
    std::string bus_name_;
};

} // namespace

extern const DeviceType kPiix3UhciType = {
    .name = "piix3-usb-uhci",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Usb,
    .description = {},
    .properties = kProperties,
    .create = &create_device<Piix3Uhci>,
    .qom_parent = "pci-uhci-usb",
    .child_bus = BusKind::Usb,
    .has_rom = true,
};

} // namespace kestrel
