// i8042: the PC's keyboard controller with its PS/2 keyboard and mouse.
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "devices/i8042/i8042.h"
#include "devices/i8042/i8042_input.h"
#include "base/service_registry.h"

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint8, "kbd-irq", I8042::kKeyboardIrq),
    prop_uint(PropType::Uint8, "mouse-irq", I8042::kMouseIrq),
};
constexpr std::string_view kUnsupported[] = {"extended-state", "kbd-throttle"};

class I8042Device final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        const PropertyValues& p = properties();
        kbc_ = std::make_shared<I8042>(context.isa_irq(unsigned(p.uint("kbd-irq"))),
                                       context.isa_irq(unsigned(p.uint("mouse-irq"))), context.machine());
        firmware_boot_ = context.board().firmware_boot;
        post();
        auto command = std::make_shared<BusWindow>(kbc_, I8042::kCommandOffset);
        context.pio().insert_or_throw(I8042::kDataPort, 1, kbc_, "i8042-data");
        context.pio().insert_or_throw(I8042::kCommandPort, 1, command, "i8042-cmd");
        if ((input_ = context.services().find<InputService>())) {
            keyboard_ = std::make_unique<Ps2KeyboardInput>(kbc_);
            mouse_ = std::make_unique<Ps2MouseInput>(kbc_);
            input_->add_handler("QEMU PS/2 Keyboard", InputHandler::KEY, *keyboard_);
            input_->add_handler("QEMU PS/2 Mouse", InputHandler::REL | InputHandler::BUTTON, *mouse_);
        }
    }
    void unrealize() override {
        if (!input_) return;
        input_->remove_handler(*keyboard_);
        input_->remove_handler(*mouse_);
    }
    void reset() override {
        kbc_->reset();
        post();
    }

private:
    // Without a BIOS kestrel plays its part (as the VGA's text mode): Linux
    // then finds an "AT Translated Set 2 keyboard", as it does after SeaBIOS.
    void post() {
        if (!firmware_boot_) kbc_->post_firmware_state();
    }

    bool firmware_boot_ = false;
    std::shared_ptr<I8042> kbc_;
    InputService* input_ = nullptr;
    std::unique_ptr<Ps2KeyboardInput> keyboard_;
    std::unique_ptr<Ps2MouseInput> mouse_;
};

} // namespace

extern const DeviceType kI8042Type = {
    .name = "i8042",
    .bus = BusKind::Isa,
    .category = DeviceCategory::Input,
    .description = {},
    .properties = kProperties,
    .create = &create_device<I8042Device>,
    .qom_parent = "isa-device",
    .unsupported_properties = kUnsupported,
};

} // namespace kestrel
