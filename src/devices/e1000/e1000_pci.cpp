// e1000: the Intel 82540EM Gigabit Ethernet controller (PCI 8086:100e) on
// a NetBackend, QEMU's default NIC of the pc machine: the device type, its
// properties, and the function (e1000_function.h) on the net clients.
#include "base/service_registry.h"
#include "devices/device_context.h"
#include "devices/e1000/e1000_function.h"
#include "devices/pci/pci_function_device.h"
#include "net/net_clients.h"

namespace kestrel {
namespace {

using namespace e1000;

constexpr PropertySpec kProperties[] = {
    kMacProperty,
    kNetdevProperty,
    kBootIndexProperty,
    prop_bool("autonegotiation", true, "on/off"),
    prop_bool("init-vet", true, "on/off"),
    prop_bool("mitigation", true, "on/off"),
};

// QEMU 7.2's other e1000 properties (besides every PCI device's).
constexpr std::string_view kUnsupported[] = {"extra_mac_registers", "migrate_tso_props"};

class E1000Pci final : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;
    // The function outlives this object (the PCI bus shares it) and may
    // outlive the net backends: it lets go of its backend port now, while
    // the port still exists.
    ~E1000Pci() override {
        if (clients_ && nic_) clients_->remove_nic(*nic_);
        if (nic_) nic_->backend_deleted();
    }

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        const PropertyValues& p = properties();
        clients_ = context.services().find<NetClients>();
        NetBackend* backend = clients_ ? clients_->attach(p.str("netdev")) : nullptr;
        E1000Core::Options options;
        options.mac = MacAddress::parse(p.str("mac")).value_or(MacAddress{});
        options.autonegotiation = p.boolean("autonegotiation");
        options.init_vet = p.boolean("init-vet");
        options.mitigation = p.boolean("mitigation");
        options.vnet_hdr = backend && backend->has_vnet_hdr();
        nic_ = std::make_shared<E1000Function>(context.memory(), backend, options, context.main_loop(),
                                               context.device_memory());
        if (clients_) clients_->add_nic(*nic_, id(), std::string(type().name), qom_path(), backend);
        nic_->start();
        return nic_;
    }

    NetClients* clients_ = nullptr;
    std::shared_ptr<E1000Function> nic_;
};

} // namespace

extern const DeviceType kE1000Type = {
    .name = "e1000",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Network,
    .description = "Intel Gigabit Ethernet",
    .properties = kProperties,
    .create = &create_device<E1000Pci>,
    .qom_parent = "e1000-base",
    .alias = "e1000-82540em",
    .unsupported_properties = kUnsupported,
    .has_rom = true,
    .romfile = "efi-e1000.rom",
};

} // namespace kestrel
