// virtio-serial-pci: a virtio-serial on the virtio PCI transport; its bus
// ("<id>.0") takes virtserialport and virtconsole devices. Served on the
// main loop, where its ports' chardevs call back.
#include "base/config_error.h"
#include "base/service_registry.h"
#include "devices/device_context.h"
#include "virtio/pci/virtio_pci_device.h"
#include "virtio/pci/virtio_pci_function_device.h"
#include "virtio/serial/virtio_serial_bus.h"

namespace kestrel {
namespace {

constexpr auto kBackend = PropertySpec::Qtree::Backend;

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint32, "class", 0),
    in_qtree(prop_uint(PropType::Uint32, "max_ports", virtio_serial::kDefaultMaxPorts), kBackend),
    in_qtree(prop_bool("emergency-write", true, "on/off"), kBackend),
};

// QEMU 7.2's other virtio-serial-pci properties.
constexpr std::string_view kUnsupported[] = {
    "acpi-index", "aer", "any_layout", "ats", "disable-legacy", "disable-modern", "event_idx",
    "failover_pair_id", "indirect_desc", "ioeventfd", "iommu_platform", "migrate-extra",
    "modern-pio-notify", "multifunction", "notify_on_empty", "packed", "page-per-vq", "queue_reset",
    "use-disabled-flag", "use-started", "vectors", "virtio-backend",
    "virtio-pci-bus-master-bug-migration", "x-ats-page-aligned", "x-disable-legacy-check",
    "x-disable-pcie", "x-ignore-backend-features", "x-pcie-deverr-init", "x-pcie-extcap-init",
    "x-pcie-flr-init", "x-pcie-lnkctl-init", "x-pcie-lnksta-dllla", "x-pcie-pm-init",
};

constexpr uint32_t kClassCommunicationOther = 0x0780;
constexpr uint32_t kClassDisplayOther = 0x0380;
constexpr uint32_t kClassOthers = 0x00ff;

uint32_t class_code(uint64_t value);

void complete(DeviceConfig& device, const DeviceCheckContext&) {
    device.props.set_value("class", uint64_t(class_code(device.props.uint("class")) >> 8));
    uint64_t max_ports = device.props.uint("max_ports");
    if (max_ports == 0) throw ConfigError("Maximum number of serial ports not specified");
    if (max_ports > virtio_serial::kMaxPortsLimit)
        throw ConfigError("maximum ports supported: " + std::to_string(virtio_serial::kMaxPortsLimit));
}

// QEMU keeps class= only for the classes a console may have.
uint32_t class_code(uint64_t value) {
    if (value == kClassDisplayOther || value == kClassOthers) return uint32_t(value) << 8;
    return kClassCommunicationOther << 8;
}

class VirtioSerialPci final : public VirtioPciFunctionDevice {
public:
    using VirtioPciFunctionDevice::VirtioPciFunctionDevice;

    void unrealize() override {
        if (buses_ && serial_) buses_->remove(*serial_);
    }
    const void* child_bus() const override { return serial_.get(); }
    std::vector<std::string> child_bus_names() const override { return {bus_name_}; }

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        const PropertyValues& p = properties();
        buses_ = context.services().find<VirtioSerialBuses>();
        VirtioSerialConfig c;
        c.loop = &context.main_loop();
        c.max_ports = uint32_t(p.uint("max_ports"));
        c.emergency_write = p.boolean("emergency-write");
        c.name = id().empty() ? std::string(type().name) : id();
        c.on_guest_open = [buses = buses_](const std::string& port, bool open) {
            if (buses) buses->port_changed(port, open);
        };
        serial_ = std::make_shared<VirtioSerial>(c);
        if (buses_) bus_name_ = buses_->add(id(), *serial_);

        VirtioPciOptions options;
        options.class_code = class_code(p.uint("class"));
        options.config_size = serial_->config_size();
        options.name = std::string(type().name);
        return std::make_shared<VirtioPciDevice>(serial_, VirtioPciContext{context.memory(), context.plumbing()},
                                                 options);
    }

    std::shared_ptr<VirtioSerial> serial_;
    VirtioSerialBuses* buses_ = nullptr;
    std::string bus_name_;
};

} // namespace

extern const DeviceType kVirtioSerialPciType = {
    .name = "virtio-serial-pci",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Input,
    .description = {},
    .properties = kProperties,
    .create = &create_device<VirtioSerialPci>,
    .qom_parent = "virtio-serial-pci-base",
    .alias = "virtio-serial",
    .child_bus = BusKind::VirtioSerial,
    .backend = "virtio-serial-device",
    .unsupported_properties = kUnsupported,
    .complete = &complete,
    .has_rom = true,
};

} // namespace kestrel
