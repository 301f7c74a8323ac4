// port92: PS/2 System Control Port A (fast A20 gate and reset).
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "devices/misc_ports/system_control_port_a.h"

namespace kestrel {
namespace {

class Port92 final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        port_ = std::make_shared<SystemControlPortA>(context.machine());
        context.pio().insert_or_throw(SystemControlPortA::kPort, SystemControlPortA::kLength, port_, "port92");
    }
    void reset() override { port_->reset(); }

private:
    std::shared_ptr<SystemControlPortA> port_;
};

} // namespace

extern const DeviceType kPort92Type = {
    .name = "port92",
    .bus = BusKind::Isa,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = {},
    .create = &create_device<Port92>,
    .qom_parent = "isa-device",
    .user_creatable = false,
};

} // namespace kestrel
