// isa-debug-exit: a guest write of V to its ports ends kestrel with exit
// status (V << 1) | 1, as QEMU's. Test kernels use it to report their result
// (-device isa-debug-exit,iobase=0xf4,iosize=0x04).
#include "base/machine_control.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/device_context.h"

#include <algorithm>

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint32, "iobase", 0x501),
    prop_uint(PropType::Uint32, "iosize", 0x02),
};

class DebugExitPort final : public BusDevice {
public:
    explicit DebugExitPort(MachineControl& machine) : machine_(machine) {}
    void read(uint64_t, std::span<uint8_t> data) override { std::fill(data.begin(), data.end(), 0); }
    // QEMU passes accesses of up to four bytes whole; wider ones are split.
    void write(uint64_t, std::span<const uint8_t> data) override {
        uint64_t value = load_le(data.first(std::min<size_t>(data.size(), 4)));
        machine_.request_exit(int((value << 1) | 1));
    }

private:
    MachineControl& machine_;
};

class IsaDebugExit final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        const PropertyValues& p = properties();
        if (p.uint("iosize") == 0) return;  // QEMU maps nothing then
        context.pio().insert_or_throw(p.uint("iobase"), p.uint("iosize"),
                                      std::make_shared<DebugExitPort>(context.machine()), "isa-debug-exit");
    }
};

} // namespace

extern const DeviceType kIsaDebugExitType = {
    .name = "isa-debug-exit",
    .bus = BusKind::Isa,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = kProperties,
    .create = &create_device<IsaDebugExit>,
    .qom_parent = "isa-device",
};

} // namespace kestrel
