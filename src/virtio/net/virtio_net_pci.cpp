// virtio-net-pci: a virtio-net NIC on the virtio PCI transport. Its network
// options belong to the virtio device below the proxy, as in QEMU
// ("virtio-net-device": netdev=, mac=, the feature bits, mq=, host_mtu=).
#include "base/config_error.h"
#include "base/service_registry.h"
#include "devices/device_context.h"
#include "devices/pci/pci_function_device.h"
#include "net/net_clients.h"
#include "virtio/net/virtio_net.h"
#include "virtio/net/virtio_net_abi.h"
#include "virtio/pci/virtio_pci_device.h"
#include "virtio/pci/virtio_pci_regs.h"
#include "virtio/pci/virtio_pci_unsupported.h"

#include <climits>

namespace kestrel {
namespace {

using namespace virtio_net;
constexpr auto kBackend = PropertySpec::Qtree::Backend;
constexpr int64_t kVectorsUnset = 0xffffffff;

// The boolean feature properties of virtio-net-device, in QEMU's order,
// and the feature bit each one is.
struct FeatureProperty {
    PropertySpec spec;
    unsigned bit;
};
constexpr FeatureProperty kFeatureProperties[] = {
    {in_qtree(prop_bool("csum", true, "on/off"), kBackend), kFCsum},
    {in_qtree(prop_bool("guest_csum", true, "on/off"), kBackend), kFGuestCsum},
    {in_qtree(prop_bool("gso", true, "on/off"), kBackend), kFGso},
    {in_qtree(prop_bool("guest_tso4", true, "on/off"), kBackend), kFGuestTso4},
    {in_qtree(prop_bool("guest_tso6", true, "on/off"), kBackend), kFGuestTso6},
    {in_qtree(prop_bool("guest_ecn", true, "on/off"), kBackend), kFGuestEcn},
    {in_qtree(prop_bool("guest_ufo", true, "on/off"), kBackend), kFGuestUfo},
    {in_qtree(prop_bool("guest_announce", true, "on/off"), kBackend), kFGuestAnnounce},
    {in_qtree(prop_bool("host_tso4", true, "on/off"), kBackend), kFHostTso4},
    {in_qtree(prop_bool("host_tso6", true, "on/off"), kBackend), kFHostTso6},
    {in_qtree(prop_bool("host_ecn", true, "on/off"), kBackend), kFHostEcn},
    {in_qtree(prop_bool("host_ufo", true, "on/off"), kBackend), kFHostUfo},
    {in_qtree(prop_bool("mrg_rxbuf", true, "on/off"), kBackend), kFMrgRxbuf},
    {in_qtree(prop_bool("status", true, "on/off"), kBackend), kFStatus},
    {in_qtree(prop_bool("ctrl_vq", true, "on/off"), kBackend), kFCtrlVq},
    {in_qtree(prop_bool("ctrl_rx", true, "on/off"), kBackend), kFCtrlRx},
    {in_qtree(prop_bool("ctrl_vlan", true, "on/off"), kBackend), kFCtrlVlan},
    {in_qtree(prop_bool("ctrl_rx_extra", true, "on/off"), kBackend), kFCtrlRxExtra},
    {in_qtree(prop_bool("ctrl_mac_addr", true, "on/off"), kBackend), kFCtrlMacAddr},
    {in_qtree(prop_bool("ctrl_guest_offloads", true, "on/off"), kBackend), kFCtrlGuestOffloads},
    {in_qtree(prop_bool("mq", false, "on/off"), kBackend), kFMq},
};

constexpr PropertySpec kProperties[] = {
    {"disable-legacy", PropType::OnOffAuto, "on/off/auto", true, 0, "auto"},
    prop_bool("disable-modern", false),
    prop_uint(PropType::Uint32, "vectors", kVectorsUnset),
    kFeatureProperties[0].spec, kFeatureProperties[1].spec, kFeatureProperties[2].spec,
    kFeatureProperties[3].spec, kFeatureProperties[4].spec, kFeatureProperties[5].spec,
    kFeatureProperties[6].spec, kFeatureProperties[7].spec, kFeatureProperties[8].spec,
    kFeatureProperties[9].spec, kFeatureProperties[10].spec, kFeatureProperties[11].spec,
    kFeatureProperties[12].spec, kFeatureProperties[13].spec, kFeatureProperties[14].spec,
    kFeatureProperties[15].spec, kFeatureProperties[16].spec, kFeatureProperties[17].spec,
    kFeatureProperties[18].spec, kFeatureProperties[19].spec, kFeatureProperties[20].spec,
    in_qtree(kMacProperty, kBackend),
    in_qtree(kNetdevProperty, kBackend),
    in_qtree(prop_uint(PropType::Uint16, "rx_queue_size", 256), kBackend),
    in_qtree(prop_uint(PropType::Uint16, "tx_queue_size", 256), kBackend),
    in_qtree(prop_uint(PropType::Uint16, "host_mtu", 0), kBackend),
    in_qtree(prop_uint(PropType::Int32, "speed", -1), kBackend),
    in_qtree(prop_str("duplex"), kBackend),
    in_qtree(prop_bool("indirect_desc", true, "on/off"), kBackend),
    in_qtree(prop_bool("event_idx", true, "on/off"), kBackend),
    in_qtree(prop_bool("any_layout", true, "on/off"), kBackend),
    kBootIndexProperty,
};

// QEMU 7.2's other virtio-net-pci properties (and the transport's, kVirtioPciUnsupported).
constexpr std::string_view kUnsupported[] = {
    "failover", "guest_rsc_ext", "hash", "ioeventfd", "rsc_interval", "rss", "tx", "x-mtu-bypass-backend",
    "x-txburst", "x-txtimer",
};

bool power_of_two(uint64_t v) { return v && !(v & (v - 1)); }

// What QEMU's virtio-net realize checks.
void complete(DeviceConfig& device, const DeviceCheckContext&) {
    const PropertyValues& p = device.props;
    uint64_t rx = p.uint("rx_queue_size"), tx = p.uint("tx_queue_size");
    if (!power_of_two(rx) || rx < 256 || rx > 1024)
        throw ConfigError("Invalid rx_queue_size (= " + std::to_string(rx) +
                          "), must be a power of 2 between 256 and 1024.");
    if (!power_of_two(tx) || tx < 256 || tx > 1024)  // a tap uses 256 whatever is asked
        throw ConfigError("Invalid tx_queue_size (= " + std::to_string(tx) +
                          "), must be a power of 2 between 256 and 1024");
    const std::string& duplex = p.str("duplex");
    if (!duplex.empty() && duplex != "half" && duplex != "full")
        throw ConfigError("'duplex' must be 'half' or 'full'");
    if (p.sint("speed") < -1) throw ConfigError("'speed' must be between 0 and INT_MAX");
    if (p.boolean("disable-modern") && p.str("disable-legacy") == "on")
        throw ConfigError("device cannot work as neither modern nor legacy mode is enabled\n"
                          "Set either disable-modern or disable-legacy to off");
}

class VirtioNetPci final : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;
    ~VirtioNetPci() override {
        if (clients_ && net_) clients_->remove_nic(*net_);
    }

    void describe(QtreeNode& node) const override {
        PciFunctionDevice::describe(node);
        QtreeNode backend{std::string(type().backend), "", {}, {}, {}};
        for (const PropertySpec* spec : properties().specs())
            if (spec->qtree == PropertySpec::Qtree::Backend)
                backend.properties.emplace_back(std::string(spec->name), properties().qtree_text(*spec));
        node.buses.push_back({"virtio-bus", "virtio-pci-bus", {std::move(backend)}});
    }

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        const PropertyValues& p = properties();
        clients_ = context.services().find<NetClients>();
        NetBackend* backend = clients_ ? clients_->attach(p.str("netdev")) : nullptr;
        VirtioNetConfig c;
        c.backend = backend;
        c.mac = MacAddress::parse(p.str("mac")).value_or(MacAddress{});
        c.model = std::string(type().name);
        c.name = id().empty() ? "virtio-net" : id();
        // On user networking, the loop that runs slirp (QEMU serves both on
        // its main loop): a guest's acknowledgement and the segments it lets
        // slirp send then reach the stack and the ring without two thread
        // wake-ups per round trip.
        EventLoop* shared = backend ? backend->service_loop() : nullptr;
        c.loop = shared ? shared : &context.io_loop("", "net-" + (id().empty() ? std::string("virtio") : id()));
        for (const FeatureProperty& f : kFeatureProperties)
            if (p.boolean(f.spec.name)) c.features |= bit(f.bit);
        unsigned backend_queues = backend ? backend->queues() : 1;
        c.max_queue_pairs = uint16_t(p.boolean("mq") ? backend_queues : 1);
        c.mtu = uint16_t(p.uint("host_mtu"));
        c.speed = int32_t(p.sint("speed"));
        c.duplex = p.str("duplex") == "full" ? 1 : p.str("duplex") == "half" ? 0 : kDuplexUnknown;
        c.queue_size = uint16_t(p.uint("rx_queue_size"));
        c.indirect_desc = p.boolean("indirect_desc");
        c.event_idx = p.boolean("event_idx");
        c.any_layout = p.boolean("any_layout");
        net_ = std::make_shared<VirtioNet>(c);

        uint64_t vectors = p.uint("vectors");
        if (vectors == uint64_t(kVectorsUnset)) {  // QEMU: two per backend queue, config and control
            vectors = 2ull * backend_queues + 2;
            mutable_properties().set_value("vectors", vectors);
        }
        VirtioPciOptions options;
        options.class_code = 0x020000;
        options.msix_vectors = unsigned(std::min<uint64_t>(vectors, 2048));
        options.config_size = net_->config_size();
        options.name = std::string(type().name);
        if (p.str("disable-legacy") == "auto")  // as QEMU's realize: off on a conventional PCI bus
            mutable_properties().set_value("disable-legacy", std::string("off"));
        options.transitional = p.str("disable-legacy") != "on";
        options.modern = !p.boolean("disable-modern");
        if (clients_) clients_->add_nic(*net_, id(), std::string(type().name), qom_path(), backend);
        return std::make_shared<VirtioPciDevice>(net_, VirtioPciContext{context.memory(), context.plumbing()},
                                                 options);
    }

    NetClients* clients_ = nullptr;
    std::shared_ptr<VirtioNet> net_;
};

} // namespace

extern const DeviceType kVirtioNetPciType = {
    .name = "virtio-net-pci",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Network,
    .description = {},
    .properties = kProperties,
    .create = &create_device<VirtioNetPci>,
    .qom_parent = "virtio-net-pci-base",
    .alias = "virtio-net",
    .backend = "virtio-net-device",
    .unsupported_properties = kUnsupported,
    .transport_unsupported_properties = kVirtioPciUnsupported,
    .complete = &complete,
    .has_rom = true,
    .romfile = "efi-virtio.rom",
};

} // namespace kestrel
