// kvm-pit: the i8254 timer KVM emulates in the kernel (the VM creates it
// with the irqchip). As a device it carries QEMU's properties: iobase, and
// lost_tick_policy, which decides whether ticks a guest missed with its
// interrupts off are delivered late ("delay": KVM reinjects them) or
// dropped ("discard"); KVM offers no other policy.
// -global kvm-pit.lost_tick_policy=discard sets it.
#include "base/config_error.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "kvm/vm.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace kestrel {
namespace {

constexpr int64_t kUnset = 0xffffffff;
constexpr uint64_t kPitPort = 0x40;

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint32, "iobase", kUnset),
    prop_enum(PropType::LostTickPolicy, "lost_tick_policy", "delay"),
};

// The board puts it at 0x40; "slew" is QEMU's userspace PIT's only.
void complete(DeviceConfig& device, const DeviceCheckContext&) {
    PropertyValues& p = device.props;
    if (p.uint("iobase") == kUnset) p.set_value("iobase", kPitPort);
    if (p.uint("iobase") != kPitPort)
        throw ConfigError("kvm-pit: the in-kernel PIT decodes ports 0x40-0x43 only (iobase=" +
                          std::to_string(p.uint("iobase")) + ")");
    const std::string& policy = p.str("lost_tick_policy");
    if (policy != "delay" && policy != "discard") throw ConfigError("Lost tick policy not supported.");
}

class KvmPit final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        Vm* vm = context.kvm_vm();
        if (!vm || properties().str("lost_tick_policy") != "discard") return;  // KVM reinjects by default
        if (!vm->set_pit_reinject(false))
            throw std::runtime_error(std::string("Can't disable in-kernel PIT reinjection: ") + std::strerror(errno));
    }
};

} // namespace

extern const DeviceType kKvmPitType = {
    .name = "kvm-pit",
    .bus = BusKind::Isa,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = kProperties,
    .create = &create_device<KvmPit>,
    .qom_parent = "pit-common",
    .user_creatable = false,
    .complete = &complete,
};

} // namespace kestrel
