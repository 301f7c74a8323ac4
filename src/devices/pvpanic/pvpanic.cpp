// pvpanic: QEMU's paravirtual panic notifier on the ISA bus (port 0x505).
// A read gives the events the device supports; a guest write of bit 0
// (panicked) or bit 1 (crash kernel loaded) tells the machine, which acts
// as -action panic= says and sends GUEST_PANICKED or GUEST_CRASHLOADED.
// The DSDT describes it as QEMU0001 so that Linux's pvpanic driver binds.
#include "base/config_error.h"
#include "base/machine_control.h"
#include "base/service_registry.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "devices/fw_cfg/fw_cfg.h"

#include <spdlog/spdlog.h>

namespace kestrel {
namespace {

constexpr uint8_t kPanicked = 1u << 0, kCrashLoaded = 1u << 1;

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint16, "ioport", 0x505),
    prop_uint(PropType::Uint8, "events", kPanicked | kCrashLoaded),
};

// One per machine: QEMU's second one fails to add its fw_cfg file.
void complete(DeviceConfig&, const DeviceCheckContext& context) {
    if (context.count_before("pvpanic") > 0) throw ConfigError("duplicate fw_cfg file name: etc/pvpanic-port");
}

class PvpanicPort final : public BusDevice {
public:
    PvpanicPort(MachineControl& machine, uint8_t events) : machine_(machine), events_(events) {}
    void read(uint64_t, std::span<uint8_t> data) override { store_le(data, data.size() == 1 ? events_ : 0); }
    void write(uint64_t, std::span<const uint8_t> data) override {
        if (data.size() != 1) return;
        uint8_t event = data[0];
        if (event & ~(kPanicked | kCrashLoaded)) spdlog::debug("pvpanic: unknown event {:#x}", event);
        if (event & kPanicked)
            machine_.report_guest_panic();
        else if (event & kCrashLoaded)
            machine_.report_guest_crashloaded();
    }

private:
    MachineControl& machine_;
    uint8_t events_;
};

class Pvpanic final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        const PropertyValues& p = properties();
        uint16_t port = uint16_t(p.uint("ioport"));
        context.pio().insert_or_throw(port, 1, std::make_shared<PvpanicPort>(context.machine(), uint8_t(p.uint("events"))),
                                      "pvpanic");
        // SeaBIOS reads the port from here for its ACPI tables.
        if (FwCfg* fw_cfg = context.services().find<FwCfg>())
            fw_cfg->add_file("etc/pvpanic-port", std::vector<uint8_t>{uint8_t(port), uint8_t(port >> 8)});
    }
};

} // namespace

extern const DeviceType kPvpanicType = {
    .name = "pvpanic",
    .bus = BusKind::Isa,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = kProperties,
    .create = &create_device<Pvpanic>,
    .qom_parent = "isa-device",
    .complete = &complete,
};

} // namespace kestrel
