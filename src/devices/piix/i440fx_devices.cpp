// The i440FX host bridge: "i440FX-pcihost", the system-bus device that
// answers configuration cycles at 0xCF8/0xCFC and owns pci.0, and "i440FX",
// its PCI function at 00:00.0.
#include "base/service_registry.h"
#include "devices/bus.h"
#include "devices/device_context.h"
#include "devices/device_memory.h"
#include "devices/pci/pci_config_io.h"
#include "devices/pci/pci_function_device.h"
#include "devices/piix/i440fx.h"
#include "kvm/pam_memory.h"

namespace kestrel {
namespace {

class I440fxPcihost final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        auto config_io = std::make_shared<PciConfigIo>(context.pci());
        auto data = std::make_shared<BusWindow>(config_io, PciConfigIo::DATA);
        context.pio().insert_or_throw(PciConfigIo::BASE, 4, config_io, "pci-conf-idx");
        context.pio().insert_or_throw(PciConfigIo::BASE + PciConfigIo::DATA, 4, data, "pci-conf-data");
        coalesce_address_writes(context);
    }

private:
    // Every configuration cycle is an address write and a data access; the
    // writes need not exit (Linux probes all 256 buses twice at boot on an
    // AMD CPU: 16k cycles). The data port's exit delivers them first.
    // PIIX3's reset control at 0xCF9 is inside the zone, and a guest may
    // write a reset there and halt without another exit (KVM halts it in
    // the kernel): the board's DeviceMemory delivers the queue every 100 ms.
    void coalesce_address_writes(DeviceContext& context) {
        if (auto memory = context.device_memory()) memory->add_coalesced_pio(PciConfigIo::BASE, 4);
    }
};

class I440fxFunction final : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;

private:
    // Firmware boot: the board has the BIOS's memory as a service.
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        return std::make_shared<I440fxHost>(context.services().find<PamMemory>());
    }
};

} // namespace

extern const DeviceType kI440fxPcihostType = {
    .name = "i440FX-pcihost",
    .bus = BusKind::System,
    .category = DeviceCategory::Bridge,
    .description = {},
    .properties = {},
    .create = &create_device<I440fxPcihost>,
    .qom_parent = "pci-host-bridge",
    .user_creatable = false,
    .child_bus = BusKind::Pci,
};

extern const DeviceType kI440fxType = {
    .name = "i440FX",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Bridge,
    .description = {},
    .properties = {},
    .create = &create_device<I440fxFunction>,
    .qom_parent = "pci-device",
    .user_creatable = false,
};

} // namespace kestrel
