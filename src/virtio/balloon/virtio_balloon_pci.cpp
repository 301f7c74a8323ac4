// virtio-balloon-pci: a virtio-balloon on the virtio PCI transport. Its
// balloon options belong to the virtio device below the proxy, as in QEMU
// ("virtio-balloon-device"); guest-stats and its polling interval are the
// QOM properties libvirt reads and sets.
#include "base/config_error.h"
#include "base/service_registry.h"
#include "devices/device_context.h"
#include "kvm/guest_memory.h"
#include "virtio/balloon/virtio_balloon.h"
#include "virtio/pci/virtio_pci_device.h"
#include "virtio/pci/virtio_pci_function_device.h"
#include "virtio/pci/virtio_pci_unsupported.h"

namespace kestrel {
namespace {

constexpr auto kBackend = PropertySpec::Qtree::Backend;

constexpr PropertySpec kProperties[] = {
    in_qtree(prop_bool("deflate-on-oom", false, "on/off"), kBackend),
    in_qtree(prop_bool("page-poison", true, "on/off"), kBackend),
    in_qtree(prop_bool("free-page-reporting", false, "on/off"), kBackend),
    in_qtree(prop_bool("qemu-4-0-config-size", false), kBackend),
    prop_link(PropType::Iothread, "iothread"),
    prop_qom_int("guest-stats-polling-interval"),
    prop_read_only("guest-stats", "guest statistics"),
};

// QEMU 7.2's other virtio-balloon-pci properties (and the transport's,
// kVirtioPciUnsupported). free-page-hint only speeds up live migration,
// which kestrel does not have.
constexpr std::string_view kUnsupported[] = {
    "free-page-hint",
};

// What QEMU's realize and property setters check.
void complete(DeviceConfig& device, const DeviceCheckContext& context) {
    if (context.count_before(device.type->name) > 0) throw ConfigError("Only one balloon device is supported");
    if (auto interval = device.props.optional_int("guest-stats-polling-interval"))
        if (auto error = balloon_polling_interval_error(*interval)) throw ConfigError(*error);
}

class VirtioBalloonPci final : public VirtioPciFunctionDevice {
public:
    using VirtioPciFunctionDevice::VirtioPciFunctionDevice;

    void pause() override {
        if (balloon_) balloon_->set_running(false);
    }
    void resume() override {
        if (balloon_) balloon_->set_running(true);
    }
    // device_del: the monitors answer "No balloon device has been
    // activated" again, and another balloon may be added.
    void unrealize() override {
        if (!balloon_ || !services_) return;
        balloon_->on_change(nullptr);
        services_->remove<BalloonService>(*balloon_);
    }

private:
    // Served on iothread= or a thread of its own, not on the main loop as
    // in QEMU: a vCPU that resets the device waits for its loop, and the
    // main loop may be waiting for the vCPUs (stop) or for the PCI config
    // lock that vCPU holds (info pci).
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        const PropertyValues& p = properties();
        VirtioBalloonConfig c;
        c.loop = &context.io_loop(p.str("iothread"), "balloon");
        c.main_loop = &context.main_loop();
        c.ram_size = context.memory().ram_size();
        c.deflate_on_oom = p.boolean("deflate-on-oom");
        c.free_page_reporting = p.boolean("free-page-reporting");
        c.page_poison = p.boolean("page-poison");
        c.qemu_4_0_config_size = p.boolean("qemu-4-0-config-size");
        c.stats_polling_interval = p.optional_int("guest-stats-polling-interval").value_or(0);
        c.qom_path = qom_path();
        c.name = id().empty() ? std::string(type().name) : id();
        balloon_ = std::make_shared<VirtioBalloon>(c);
        services_ = &context.services();
        services_->add<BalloonService>(*balloon_);
        if (const auto* events = services_->find<BalloonEvents>())
            balloon_->on_change([events](uint64_t actual) { events->changed(actual); });

        VirtioPciOptions options;
        options.class_code = 0x00ff00;  // QEMU's PCI_CLASS_OTHERS
        options.msix_vectors = 0;  // QEMU 7.2's balloon has no MSI-X: INTx
        options.config_size = balloon_->config_size();
        options.name = std::string(type().name);
        return std::make_shared<VirtioPciDevice>(balloon_, VirtioPciContext{context.memory(), context.plumbing()},
                                                 options);
    }

    std::shared_ptr<VirtioBalloon> balloon_;
    ServiceRegistry* services_ = nullptr;
};

} // namespace

extern const DeviceType kVirtioBalloonPciType = {
    .name = "virtio-balloon-pci",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = kProperties,
    .create = &create_device<VirtioBalloonPci>,
    .qom_parent = "virtio-balloon-pci-base",
    .alias = "virtio-balloon",
    .backend = "virtio-balloon-device",
    .unsupported_properties = kUnsupported,
    .transport_unsupported_properties = kVirtioPciUnsupported,
    .complete = &complete,
    .has_rom = true,
};

} // namespace kestrel
