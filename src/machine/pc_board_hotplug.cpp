// device_add / device_del on the running pc (DeviceHotplug): PCI functions
// on pci.0 plugged and unplugged through the PIIX4 PM function's ACPI
// hotplug registers, as QEMU 7.2's pc-i440fx does it; devices on a
// virtio-serial or USB bus added and removed at once, as QEMU's handlers
// there do.
#include "machine/pc_board.h"

#include "base/config_error.h"
#include "chardev/chardev_set.h"
#include "config/hotplug_device.h"
#include "devices/device_types.h"
#include "devices/pci_hotplug_controller.h"
#include "virtio/pci/virtio_pci_device.h"

#include <algorithm>

namespace kestrel {

namespace {

// The chipset's functions: they hold slots 0 and 1 for good.
bool is_chipset(std::string_view type) {
    return type == "i440FX-pcihost" || type == "PIIX3" || type == "piix3-ide" || type == "PIIX4_PM";
}

// QEMU's PCI types with hotpluggable = false: the chipset, the VGA cards
// and the PIIX IDE functions. Their slots are not in the ACPI hotplug
// registers' enable bits, so the guest cannot eject them either.
bool never_hotplugged(std::string_view type) {
    return is_chipset(type) || type == "VGA" || type == "cirrus-vga" || type == "piix4-ide";
}

// The buses whose devices come and go on a running machine: pci.0 through
// the guest's ACPI hotplug; a virtio-serial bus and a USB bus at once (QEMU's
// hotplug handler there unplugs without asking the guest).
bool bus_takes_hotplug(BusKind bus) {
    return bus == BusKind::Pci || bus == BusKind::VirtioSerial || bus == BusKind::Usb;
}

std::string value_of(const std::vector<qopts::OptPair>& options, std::string_view key) {
    for (const qopts::OptPair& p : options)
        if (p.key == key) return p.value;
    return "";
}

// QEMU finds the bus (by bus= or by kind), then asks whether it takes hot
// plug, before it looks at the device's properties.
void check_bus_takes_hotplug(const Config& live, const std::vector<qopts::OptPair>& options) {
    const DeviceType* type = find_device_type(value_of(options, "driver"));
    if (!type || !type->user_creatable) return;  // the parser says what is wrong
    if (type->bus == BusKind::Isa || type->bus == BusKind::Ide) {
        std::string bus;
        try {
            bus = hotplug_bus_name(live, *type, value_of(options, "bus"));
        } catch (const ConfigError& e) {
            throw std::runtime_error(e.what());
        }
        throw std::runtime_error("Bus '" + bus + "' does not support hotplugging");
    }
    if (never_hotplugged(type->name)) throw std::runtime_error("Parameter 'driver' expects a pluggable device type");
    if (!bus_takes_hotplug(type->bus))
        throw std::runtime_error("device '" + std::string(type->name) + "' cannot be hot-plugged by kestrel yet");
}

// Its chardev properties' values: the chardevs it holds.
std::vector<std::string> chardevs_of(const Device& device) {
    std::vector<std::string> ids;
    for (const PropertySpec* spec : device.properties().specs())
        if (spec->type == PropType::Chardev && !device.properties().str(spec->name).empty())
            ids.push_back(device.properties().str(spec->name));
    return ids;
}

} // namespace

void PcBoard::start_hotplug() {
    live_ = setup_.cfg;
    services_.add<DeviceHotplug>(*this);
    services_.add<BlockNodeHotplug>(*this);
    auto* controller = services_.find<PciHotplugController>();
    if (!controller) return;
    uint32_t removable = ~0u;
    for (const auto& device : devices_.devices())
        if (PciDevice* fn = device->pci_function(); fn && never_hotplugged(device->type().name))
            removable &= ~(1u << fn->slot());
    controller->set_removable(removable);
    controller->on_eject([this](unsigned slot) { eject_slot(slot); });
}

void PcBoard::on_device_deleted(std::function<void(const std::string&, const std::string&)> handler) {
    device_deleted_ = std::move(handler);
}

// The netdevs live now (netdev_add'ed ones too), as the parser checks them.
void PcBoard::sync_live_netdevs() {
    std::vector<std::string> ids = net_.netdev_ids();
    std::erase_if(live_.netdevs, [&](const NetdevConfig& n) {
        return n.hub < 0 && std::find(ids.begin(), ids.end(), n.id) == ids.end();
    });
    for (const std::string& id : ids) {
        bool known = std::any_of(live_.netdevs.begin(), live_.netdevs.end(),
                                 [&](const NetdevConfig& n) { return n.id == id; });
        if (!known) live_.netdevs.push_back(NetdevConfig{"", id, "tap", {}, {}, -1});
    }
}

void PcBoard::add_device(const std::vector<qopts::OptPair>& options) {
    auto* controller = services_.find<PciHotplugController>();
    check_bus_takes_hotplug(live_, options);
    const DeviceType* kind = find_device_type(value_of(options, "driver"));
    const bool on_pci = kind && kind->bus == BusKind::Pci;
    if (on_pci && !controller) throw std::runtime_error("Bus 'pci.0' does not support hotplugging");
    sync_live_netdevs();
    DeviceConfig config = [&] {
        try {
            return make_hotplug_device(live_, options,
                                       ids_held_elsewhere_ ? ids_held_elsewhere_() : std::vector<std::string>{});
        } catch (const ConfigError& e) {
            throw std::runtime_error(e.what());
        }
    }();
    check_chardevs_free(config);
    Device& added = realize_added(config);
    added.reset();
    live_.devices.push_back(config);
    if (on_pci) controller->device_plugged(config.pci_slot());
}

// The parser checks chardevs against the configuration; who holds one now
// (a monitor, a serial port, a port added before) only the set knows.
void PcBoard::check_chardevs_free(const DeviceConfig& config) const {
    if (!chardevs_) return;
    for (const PropertySpec* spec : config.props.specs()) {
        if (spec->type != PropType::Chardev) continue;
        const std::string& id = config.props.str(spec->name);
        if (id.empty() || !chardevs_->in_use(id)) continue;
        std::string_view owner = config.type->backend.empty() ? config.type->name : config.type->backend;
        throw std::runtime_error("Property '" + std::string(owner) + "." + std::string(spec->name) +
                                 "' can't take value '" + id + "': Device '" + id + "' is in use");
    }
}

// Realizes a device_add'ed device; the threads it started are its own
// (they end when it goes). Nothing stays of it if realize throws.
Device& PcBoard::realize_added(const DeviceConfig& config) {
    const size_t threads_before = iothreads_.size();
    Device* added = nullptr;
    try {
        added = &devices_.add_realized(config.type->create(config), *this);
    } catch (...) {
        for (size_t i = threads_before; i < iothreads_.size(); ++i) iothreads_[i]->stop();
        iothreads_.resize(threads_before);
        throw;
    }
    for (size_t i = threads_before; i < iothreads_.size(); ++i) {
        own_threads_[added].push_back(iothreads_[i].get());
        if (threads_sandboxed_) sandbox_thread(*iothreads_[i]);
    }
    return *added;
}

const Device* PcBoard::find_device(const std::string& name) const {
    const Device* device = devices_.find_by_id(name);
    return device ? device : devices_.find_by_path(name);
}

void PcBoard::delete_device(const std::string& name) {
    const Device* device = find_device(name);
    if (!device) throw HotplugDeviceNotFound("Device '" + name + "' not found");
    const DeviceType& type = device->type();
    if (type.bus == BusKind::Isa) throw std::runtime_error("Bus 'isa.0' does not support hotplugging");
    if (type.bus == BusKind::Ide) throw std::runtime_error("Bus '" + device->config().bus + "' does not support hotplugging");
    if (type.bus == BusKind::System || never_hotplugged(type.name))
        throw std::runtime_error("Device '" + std::string(type.name) + "' does not support hotplugging");
    if (!bus_takes_hotplug(type.bus))
        throw std::runtime_error("device '" + std::string(type.name) + "' cannot be unplugged by kestrel yet");
    if (type.bus != BusKind::Pci) {
        // Off its bus now (its id is free again); QEMU sends DEVICE_DELETED
        // once the device is finalized, after this command's reply.
        std::vector<DeletedDevice> deleted;
        unplug(*device, deleted);
        setup_.loop.post([handler = device_deleted_, deleted] {
            for (const auto& [id, path] : deleted)
                if (handler) handler(id, path);
        });
        return;
    }
    auto* controller = services_.find<PciHotplugController>();
    if (!controller || !device->pci_function()) throw std::runtime_error("Bus 'pci.0' does not support hotplugging");
    const unsigned slot = device->pci_function()->slot();
    if (controller->unplug_requested(slot))
        throw std::runtime_error("Device " + name + " is already in the process of unplug");
    controller->request_unplug(slot);
}

// The guest ejected `slot`: the hot-removable devices there go.
void PcBoard::eject_slot(unsigned slot) {
    std::vector<const Device*> going;
    for (const auto& device : devices_.devices()) {
        PciDevice* fn = device->pci_function();
        if (fn && fn->attached() && fn->slot() == slot && !never_hotplugged(device->type().name))
            going.push_back(device.get());
    }
    std::vector<DeletedDevice> deleted;
    for (const Device* device : going) unplug(*device, deleted);
    for (const auto& [id, path] : deleted)
        if (device_deleted_) device_deleted_(id, path);
}

// The devices on the bus `device` provides (ports, USB devices), newest
// first, as QEMU's bus lists and unrealizes them.
std::vector<const Device*> PcBoard::children_of(const Device& device) const {
    std::vector<const Device*> children;
    const void* bus = device.child_bus();
    if (!bus) return children;
    const auto& all = devices_.devices();
    for (auto it = all.rbegin(); it != all.rend(); ++it)
        if ((*it)->parent_bus() == bus) children.push_back(it->get());
    return children;
}

// The devices on its bus first, as QEMU unrealizes a bus with its owner;
// a PCI function's queues are stopped before anything they use goes; then
// off the bus, its threads ended, unrealized (services and registrations
// withdrawn), its chardevs free for others, the device and its drive (a
// -drive goes with it) freed. `deleted` gets what DEVICE_DELETED names,
// children first.
void PcBoard::unplug(const Device& device, std::vector<DeletedDevice>& deleted) {
    for (const Device* child : children_of(device)) unplug(*child, deleted);
    std::shared_ptr<PciDevice> function_held;
    if (PciDevice* fn = device.pci_function()) {
        if (auto* virtio = dynamic_cast<VirtioPciDevice*>(fn)) virtio->device().reset();
        function_held = pci_.remove_device(fn->slot(), fn->function());
    }
    const std::string id = device.id(), path = device.qom_path();
    const bool has_backend = !device.type().backend.empty();
    std::vector<IoThread*> threads = own_threads_[&device];
    own_threads_.erase(&device);
    for (IoThread* t : threads) t->stop();
    std::unique_ptr<Device> gone = devices_.remove(device);
    gone->unrealize();
    for (const std::string& chardev : chardevs_of(*gone))
        if (chardevs_) chardevs_->release(chardev);
    std::string drive_gone = drives_.release(path + "/virtio-backend");
    std::erase_if(live_.drives, [&](const DriveConfig& d) { return !drive_gone.empty() && d.id == drive_gone; });
    forget_live_config(*gone);
    gone.reset();
    function_held.reset();
    std::erase_if(iothreads_, [&](const std::unique_ptr<IoThread>& t) {
        return std::find(threads.begin(), threads.end(), t.get()) != threads.end();
    });
    if (has_backend) deleted.emplace_back("", path + "/virtio-backend");
    deleted.emplace_back(id, path);
}

// Out of the configuration device_add checks against: a PCI function by
// its address, another device by its id, an anonymous one by type and bus.
void PcBoard::forget_live_config(const Device& device) {
    const DeviceConfig& c = device.config();
    auto same = [&](const DeviceConfig& d) {
        if (c.type->bus == BusKind::Pci)
            return d.type->bus == BusKind::Pci && d.props.sint("addr") == device.properties().sint("addr");
        if (!c.id.empty()) return d.id == c.id;
        return d.id.empty() && d.type == c.type && d.bus == c.bus;
    };
    auto it = std::find_if(live_.devices.begin(), live_.devices.end(), same);
    if (it != live_.devices.end()) live_.devices.erase(it);
}

} // namespace kestrel
