// device_add / device_del on the running pc (DeviceHotplug): PCI functions
// on pci.0 plugged and unplugged through the PIIX4 PM function's ACPI
// hotplug registers, as QEMU 7.2's pc-i440fx does it.
#include "machine/pc_board.h"

#include "base/config_error.h"
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

// QEMU's PCI types with hotpluggable = false: the chipset and the VGA cards.
bool never_hotplugged(std::string_view type) { return is_chipset(type) || type == "VGA" || type == "cirrus-vga"; }

// The types kestrel can add and remove on a running machine.
bool hotpluggable_here(std::string_view type) {
    return type == "virtio-blk-pci" || type == "virtio-net-pci" || type == "e1000";
}

std::string value_of(const std::vector<qopts::OptPair>& options, std::string_view key) {
    for (const qopts::OptPair& p : options)
        if (p.key == key) return p.value;
    return "";
}

// QEMU checks the bus before the device's properties.
void check_bus_takes_hotplug(const std::vector<qopts::OptPair>& options) {
    const DeviceType* type = find_device_type(value_of(options, "driver"));
    if (!type || !type->user_creatable) return;  // the parser says what is wrong
    if (type->bus == BusKind::Isa || type->bus == BusKind::Ide) {
        std::string bus = value_of(options, "bus");
        if (bus.empty()) bus = type->bus == BusKind::Ide ? "ide.1" : std::string(bus_instance_name(type->bus));
        throw std::runtime_error("Bus '" + bus + "' does not support hotplugging");
    }
    if (never_hotplugged(type->name)) throw std::runtime_error("Parameter 'driver' expects a pluggable device type");
    if (!hotpluggable_here(type->name))
        throw std::runtime_error("device '" + std::string(type->name) + "' cannot be hot-plugged by kestrel yet");
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
        if (PciDevice* fn = device->pci_function(); fn && is_chipset(device->type().name))
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
    check_bus_takes_hotplug(options);
    if (!controller) throw std::runtime_error("Bus 'pci.0' does not support hotplugging");
    sync_live_netdevs();
    DeviceConfig config = [&] {
        try {
            return make_hotplug_device(live_, options,
                                       ids_held_elsewhere_ ? ids_held_elsewhere_() : std::vector<std::string>{});
        } catch (const ConfigError& e) {
            throw std::runtime_error(e.what());
        }
    }();
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
    added->reset();
    live_.devices.push_back(config);
    controller->device_plugged(config.pci_slot());
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
    if (!hotpluggable_here(type.name))
        throw std::runtime_error("device '" + std::string(type.name) + "' cannot be unplugged by kestrel yet");
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
        if (fn && fn->attached() && fn->slot() == slot && hotpluggable_here(device->type().name))
            going.push_back(device.get());
    }
    for (const Device* device : going) unplug(*device);
}

// Queues stopped before anything they use goes; then off the bus, its
// threads ended, the device and its drive (a -drive goes with it) freed.
void PcBoard::unplug(const Device& device) {
    PciDevice* fn = device.pci_function();
    const unsigned slot = fn->slot(), function = fn->function();
    if (auto* virtio = dynamic_cast<VirtioPciDevice*>(fn)) virtio->device().reset();
    std::shared_ptr<PciDevice> function_held = pci_.remove_device(slot, function);
    const std::string id = device.id(), path = device.qom_path();
    const bool has_backend = !device.type().backend.empty();
    std::vector<IoThread*> threads = own_threads_[&device];
    own_threads_.erase(&device);
    for (IoThread* t : threads) t->stop();
    std::string drive_gone = drives_.release(path + "/virtio-backend");
    std::erase_if(live_.drives, [&](const DriveConfig& d) { return !drive_gone.empty() && d.id == drive_gone; });
    const int64_t addr = device.properties().sint("addr");
    std::erase_if(live_.devices, [&](const DeviceConfig& d) {
        return d.type->bus == BusKind::Pci && d.props.sint("addr") == addr;
    });
    std::unique_ptr<Device> gone = devices_.remove(device);
    gone.reset();
    function_held.reset();
    std::erase_if(iothreads_, [&](const std::unique_ptr<IoThread>& t) {
        return std::find(threads.begin(), threads.end(), t.get()) != threads.end();
    });
    if (!device_deleted_) return;
    if (has_backend) device_deleted_("", path + "/virtio-backend");
    device_deleted_(id, path);
}

} // namespace kestrel
