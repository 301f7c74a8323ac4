// virtserialport and virtconsole: ports on a virtio-serial bus whose host
// end is a chardev. A virtserialport follows its chardev's peer (a socket
// client connecting or leaving is PORT_OPEN to the guest); a virtconsole
// is always open on the host side, as QEMU's.
#include "base/config_error.h"
#include "base/service_registry.h"
#include "chardev/chardev.h"
#include "devices/device.h"
#include "devices/device_config.h"
#include "devices/device_context.h"
#include "virtio/serial/virtio_serial_bus.h"

#include <algorithm>

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_link(PropType::Chardev, "chardev", "ID of a chardev to use as a backend"),
    prop_str("name"),
    prop_uint(PropType::Uint32, "nr", virtio_serial::kBadId),
};

VirtioSerialPortSpec spec_of(const DeviceConfig& device) {
    VirtioSerialPortSpec spec;
    spec.nr = uint32_t(device.props.uint("nr"));
    spec.has_name = device.props.has("name");
    spec.name = device.props.str("name");
    spec.console = device.type->name == "virtconsole";
    spec.id = device.id;
    return spec;
}

bool is_port(const DeviceConfig& d) { return d.type->bus == BusKind::VirtioSerial; }

// The controller whose bus `bus` names (the newest one for "", as
// VirtioSerialBuses::find); null if none.
const DeviceConfig* controller_of(std::span<const DeviceConfig* const> devices, const std::string& bus) {
    unsigned unnamed = 0;
    const DeviceConfig* found = nullptr;
    for (const DeviceConfig* d : devices) {
        if (d->type->child_bus != BusKind::VirtioSerial) continue;
        if (bus.empty() || bus == controller_bus_name(BusKind::VirtioSerial, d->id, d->id.empty() ? unnamed++ : 0)) found = d;
        if (found && !bus.empty()) break;
    }
    return found;
}

// QEMU's realize checks, made while the command line is read: the port's
// number is chosen here among the ports before it.
void complete(DeviceConfig& device, const DeviceCheckContext& context) {
    std::vector<const DeviceConfig*> before = context.devices_before();
    const DeviceConfig* controller = controller_of(before, device.bus);
    if (!controller) return;  // unit tests; the parser has refused a missing bus
    std::vector<VirtioSerialPortSpec> all, mine;
    for (const DeviceConfig* d : before) {
        if (!is_port(*d)) continue;
        all.push_back(spec_of(*d));
        if (controller_of(before, d->bus) == controller) mine.push_back(all.back());
    }
    VirtioSerialPortSpec spec = spec_of(device);
    try {
        check_port_name(spec, all);
        uint32_t nr = choose_port_nr(spec, mine, uint32_t(controller->props.uint("max_ports")));
        device.props.set_value("nr", uint64_t(nr));
    } catch (const std::runtime_error& e) {
        throw ConfigError(e.what());
    }
}

class VirtioSerialPortDevice final : public Device, private CharFrontend {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        VirtioSerialBuses* buses = context.services().find<VirtioSerialBuses>();
        serial_ = buses ? buses->find(config().bus) : nullptr;
        if (!serial_)
            throw std::runtime_error("No 'virtio-serial-bus' bus found for device '" + std::string(type().name) + "'");
        VirtioSerialPortSpec spec = spec_of(config());
        check_port_name(spec, buses->all_ports());
        VirtioSerialPortHost host;
        host.write = [this](std::span<const uint8_t> data) { return chardev_ ? chardev_->write_some(data) : 0; };
        host.accept_input = [this] {
            if (chardev_) chardev_->frontend_ready();
        };
        // As QEMU: a console's guest end counts as always open.
        host.guest_open = [this](bool open) {
            if (chardev_ && !console_) chardev_->set_frontend_open(open);
        };
        nr_ = serial_->add_port(spec, std::move(host));
        port_added_ = true;
        context.use_chardev(properties().str("chardev"), [this, console = spec.console](Chardev& chardev) {
            chardev_ = &chardev;
            console_ = console;
            chardev.attach(this);
            chardev.set_frontend_open(console);
            if (console || chardev.connected()) serial_->host_connected(nr_, true);
        });
    }
    void unrealize() override {
        if (port_added_) serial_->remove_port(nr_);
        port_added_ = false;
        if (chardev_) {
            chardev_->attach(nullptr);
            chardev_->set_frontend_open(false);  // QEMU's chardev then has no frontend
        }
        chardev_ = nullptr;
    }
    const void* parent_bus() const override { return serial_; }
    // QEMU's bus adds the port's state after the properties.
    void describe(QtreeNode& node) const override {
        Device::describe(node);
        const VirtioSerialPortState* s = serial_ && port_added_ ? serial_->port_state(nr_) : nullptr;
        if (!s) return;
        auto on = [](bool b) { return b ? "on" : "off"; };
        node.lines.push_back("port " + std::to_string(nr_) + ", guest " + on(s->guest_connected) + ", host " +
                             on(s->host_connected) + ", throttle " + on(s->throttled));
    }

private:
    size_t can_receive() override { return serial_->host_can_receive(nr_); }
    void receive(std::span<const uint8_t> data) override { serial_->host_input(nr_, data); }
    void opened() override {
        if (!console_) serial_->host_connected(nr_, true);
    }
    void closed() override {
        if (!console_) serial_->host_connected(nr_, false);
    }
    void writable() override { serial_->host_writable(nr_); }

    VirtioSerial* serial_ = nullptr;
    Chardev* chardev_ = nullptr;
    uint32_t nr_ = 0;
    bool port_added_ = false;
    bool console_ = false;
};

} // namespace

extern const DeviceType kVirtserialportType = {
    .name = "virtserialport",
    .bus = BusKind::VirtioSerial,
    .category = DeviceCategory::Input,
    .description = {},
    .properties = kProperties,
    .create = &create_device<VirtioSerialPortDevice>,
    .qom_parent = "virtio-serial-port",
    .complete = &complete,
};

extern const DeviceType kVirtconsoleType = {
    .name = "virtconsole",
    .bus = BusKind::VirtioSerial,
    .category = DeviceCategory::Input,
    .description = {},
    .properties = kProperties,
    .create = &create_device<VirtioSerialPortDevice>,
    .qom_parent = "virtserialport",
    .complete = &complete,
};

} // namespace kestrel
