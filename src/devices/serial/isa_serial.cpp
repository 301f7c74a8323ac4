// isa-serial: a 16550A UART on the ISA bus. The board creates one per
// -serial (COM1..COM4); -device isa-serial adds more, up to four in all.
#include "base/config_error.h"
#include "chardev/chardev.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "devices/serial/serial_16550.h"

namespace kestrel {
namespace {

constexpr int64_t kUnset = 0xffffffff;

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint32, "index", kUnset),
    prop_uint(PropType::Uint32, "iobase", kUnset),
    prop_uint(PropType::Uint32, "irq", kUnset),
    in_qtree(prop_link(PropType::Chardev, "chardev", "ID of a chardev to use as a backend"),
             PropertySpec::Qtree::Hidden),
};
constexpr std::string_view kUnsupported[] = {"baudbase", "serial", "wakeup"};

// As QEMU: index defaults to the number of isa-serials before this one;
// iobase and irq to COM<index+1>'s.
void complete(DeviceConfig& device, const DeviceCheckContext& context) {
    PropertyValues& p = device.props;
    if (p.uint("index") == kUnset) p.set_value("index", uint64_t(context.count_before("isa-serial")));
    uint64_t index = p.uint("index");
    if (index >= kComPorts.size())
        throw ConfigError("Max. supported number of ISA serial ports is " + std::to_string(kComPorts.size()) + ".");
    if (p.uint("iobase") == kUnset) p.set_value("iobase", uint64_t(kComPorts[index].base));
    if (p.uint("irq") == kUnset) p.set_value("irq", uint64_t(kComPorts[index].irq));
}

class IsaSerial final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        const PropertyValues& p = properties();
        uart_ = std::make_shared<Serial16550>(nullptr, context.isa_irq(unsigned(p.uint("irq"))));
        context.use_chardev(p.str("chardev"), [uart = uart_](Chardev& chardev) { uart->connect_chardev(chardev); });
        context.pio().insert_or_throw(p.uint("iobase"), kSerialPortCount, uart_, "serial");
    }
    void reset() override { uart_->reset(); }

private:
    std::shared_ptr<Serial16550> uart_;
};

} // namespace

extern const DeviceType kIsaSerialType = {
    .name = "isa-serial",
    .bus = BusKind::Isa,
    .category = DeviceCategory::Input,
    .description = {},
    .properties = kProperties,
    .create = &create_device<IsaSerial>,
    .qom_parent = "isa-device",
    .backend = "serial",
    .unsupported_properties = kUnsupported,
    .complete = &complete,
};

} // namespace kestrel
