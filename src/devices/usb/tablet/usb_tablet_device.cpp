// usb-tablet: the tablet on a USB bus (piix3-usb-uhci's root ports).
#include "base/service_registry.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "devices/usb/tablet/usb_tablet.h"
#include "devices/usb/usb_bus.h"

#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint32, "usb_version", 2),
    prop_str("display"),
    prop_uint(PropType::Uint32, "head", 0),
    prop_str("port"),
    prop_str("serial"),
    prop_bool("msos-desc", true, "on/off"),
};
constexpr std::string_view kUnsupported[] = {"pcap", "attached"};

class UsbTabletDevice final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        const std::string& serial = properties().str("serial");
        tablet_ = std::make_unique<UsbTablet>(serial.empty() ? "42" : serial);
        buses_ = context.services().find<UsbBuses>();
        if (!buses_ || buses_->empty()) throw std::runtime_error("No 'usb-bus' bus found for device 'usb-tablet'");
        if ((input_ = context.services().find<InputService>())) {
            input_->add_handler("QEMU HID Tablet", InputHandler::ABS | InputHandler::BUTTON, *tablet_);
            tablet_->set_on_first_poll([this] { input_->activate(*tablet_); });
        }
        port_ = buses_->attach(*tablet_, config().bus, properties().str("port"), id());
        controller_ = buses_->controller_of(*tablet_);
    }
    void unrealize() override {
        if (input_) input_->remove_handler(*tablet_);
        if (buses_) buses_->detach(*tablet_);
        controller_ = nullptr;
    }
    const void* parent_bus() const override { return controller_; }
    void describe(QtreeNode& node) const override {
        Device::describe(node);
        unsigned bus = buses_ && tablet_ ? buses_->bus_number_of(*tablet_) : 0;
        node.lines.push_back(fmt::format("addr {}.{}, port {}, speed 12, name {}, attached", bus,
                                         tablet_ ? tablet_->address() : 0, port_, "QEMU USB Tablet"));
    }

private:
    std::unique_ptr<UsbTablet> tablet_;
    UsbBuses* buses_ = nullptr;
    InputService* input_ = nullptr;
    const UsbController* controller_ = nullptr;  // whose root port it is on
    std::string port_;
};

} // namespace

extern const DeviceType kUsbTabletType = {
    .name = "usb-tablet",
    .bus = BusKind::Usb,
    .category = DeviceCategory::Input,
    .description = {},
    .properties = kProperties,
    .create = &create_device<UsbTabletDevice>,
    .qom_parent = "usb-hid",  // QEMU's abstract HID device
    .unsupported_properties = kUnsupported,
};

} // namespace kestrel
