// isa-debugcon: QEMU's debug console port (0xe9, as Bochs's): a guest write
// of a byte goes to the chardev, a read gives `readback` (0xe9). -debugcon
// DEV creates one with id "debugcon" on a chardev of that name.
#include "base/config_error.h"
#include "chardev/chardev.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/device_context.h"

#include <atomic>

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint32, "iobase", 0xe9),
    prop_link(PropType::Chardev, "chardev", "ID of a chardev to use as a backend"),
    prop_uint(PropType::Uint32, "readback", 0xe9),
};

void complete(DeviceConfig& device, const DeviceCheckContext&) {
    if (device.props.str("chardev").empty()) throw ConfigError("Can't create debugcon device, empty char device");
}

// QEMU's region takes 1-byte accesses only; others read 0 and write nothing.
class DebugconPort final : public BusDevice {
public:
    explicit DebugconPort(uint8_t readback) : readback_(readback) {}
    void read(uint64_t, std::span<uint8_t> data) override { store_le(data, data.size() == 1 ? readback_ : 0); }
    void write(uint64_t, std::span<const uint8_t> data) override {
        Chardev* out = chardev_.load();
        if (data.size() == 1 && out) out->write(data);
    }
    void connect(Chardev& chardev) { chardev_.store(&chardev); }

private:
    uint8_t readback_;
    std::atomic<Chardev*> chardev_{nullptr};  // set once the machine opened the chardevs
};

class IsaDebugcon final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        const PropertyValues& p = properties();
        auto port = std::make_shared<DebugconPort>(uint8_t(p.uint("readback")));
        context.use_chardev(p.str("chardev"), [port](Chardev& chardev) { port->connect(chardev); });
        context.pio().insert_newest_wins(p.uint("iobase"), 1, port, "isa-debugcon");
    }
};

} // namespace

extern const DeviceType kIsaDebugconType = {
    .name = "isa-debugcon",
    .bus = BusKind::Isa,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = kProperties,
    .create = &create_device<IsaDebugcon>,
    .qom_parent = "isa-device",
    .complete = &complete,
};

} // namespace kestrel
