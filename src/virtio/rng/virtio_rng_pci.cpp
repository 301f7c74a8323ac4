// virtio-rng-pci: a virtio-rng on the virtio PCI transport. Its rate limit
// and backend belong to the virtio device below the proxy, as in QEMU
// ("virtio-rng-device"); without rng= it reads an rng-builtin of its own.
#include "base/config_error.h"
#include "base/service_registry.h"
#include "devices/device_context.h"
#include "virtio/pci/virtio_pci_device.h"
#include "virtio/pci/virtio_pci_function_device.h"
#include "virtio/rng/virtio_rng.h"

namespace kestrel {
namespace {

constexpr auto kBackend = PropertySpec::Qtree::Backend;

constexpr PropertySpec kProperties[] = {
    in_qtree(prop_link(PropType::RngBackend, "rng"), PropertySpec::Qtree::Hidden),
    in_qtree(prop_uint(PropType::Uint64, "max-bytes", int64_t(virtio_rng::kDefaultMaxBytes)), kBackend),
    in_qtree(prop_uint(PropType::Uint32, "period", virtio_rng::kDefaultPeriodMs), kBackend),
};

// QEMU 7.2's other virtio-rng-pci properties.
constexpr std::string_view kUnsupported[] = {
    "acpi-index", "aer", "any_layout", "ats", "disable-legacy", "disable-modern", "event_idx",
    "failover_pair_id", "indirect_desc", "ioeventfd", "iommu_platform", "migrate-extra",
    "modern-pio-notify", "multifunction", "notify_on_empty", "packed", "page-per-vq", "queue_reset",
    "use-disabled-flag", "use-started", "vectors", "virtio-backend",
    "virtio-pci-bus-master-bug-migration", "x-ats-page-aligned", "x-disable-legacy-check",
    "x-disable-pcie", "x-ignore-backend-features", "x-pcie-deverr-init", "x-pcie-extcap-init",
    "x-pcie-flr-init", "x-pcie-lnkctl-init", "x-pcie-lnksta-dllla", "x-pcie-pm-init",
};

// What QEMU's realize checks (its messages).
void complete(DeviceConfig& device, const DeviceCheckContext&) {
    if (device.props.uint("max-bytes") > virtio_rng::kDefaultMaxBytes)
        throw ConfigError("'max-bytes' parameter must be non-negative, and less than 2^63");
    if (device.props.uint("period") == 0) throw ConfigError("'period' parameter expects a positive integer");
}

class VirtioRngPci final : public VirtioPciFunctionDevice {
public:
    using VirtioPciFunctionDevice::VirtioPciFunctionDevice;

private:
    // Served on a thread of its own: a vCPU never waits for the backend.
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        const PropertyValues& p = properties();
        VirtioRngConfig c;
        c.loop = &context.io_loop("", "rng");
        c.backend = backend(context, p.str("rng"));
        c.max_bytes = p.uint("max-bytes");
        c.period_ms = uint32_t(p.uint("period"));
        c.name = id().empty() ? std::string(type().name) : id();
        auto rng = std::make_shared<VirtioRng>(c);

        VirtioPciOptions options;
        options.class_code = 0x00ff00;  // QEMU's PCI_CLASS_OTHERS
        options.name = std::string(type().name);
        return std::make_shared<VirtioPciDevice>(rng, VirtioPciContext{context.memory(), context.plumbing()},
                                                 options);
    }

    static std::shared_ptr<RngBackend> backend(DeviceContext& context, const std::string& id) {
        if (id.empty()) return std::make_shared<RngBackend>("");
        const RngBackends* backends = context.services().find<RngBackends>();
        std::shared_ptr<RngBackend> found = backends ? backends->find(id) : nullptr;
        if (!found) throw ConfigError("Device '" + id + "' not found");
        return found;
    }

};

} // namespace

extern const DeviceType kVirtioRngPciType = {
    .name = "virtio-rng-pci",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = kProperties,
    .create = &create_device<VirtioRngPci>,
    .qom_parent = "virtio-rng-pci-base",
    .alias = "virtio-rng",
    .backend = "virtio-rng-device",
    .unsupported_properties = kUnsupported,
    .complete = &complete,
    .has_rom = true,
};

} // namespace kestrel
