#pragma once
// A device type as QEMU names and lists it: "-device help", "-device
// NAME,help", qom-list-types, device-list-properties and the type line of
// "info qtree" all read this, and the machine creates devices through its
// factory. devices/device_types.h holds the one table of every type.
#include "devices/property.h"

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel {

class Device;
struct DeviceConfig;
struct DriveConfig;

// None: as a device's bus, not used; as child_bus, it provides none.
enum class BusKind : uint8_t { None, System, Pci, Isa, Usb, Ide, VirtioSerial };

// "-device help" groups, in QEMU's order of printing.
enum class DeviceCategory : uint8_t { Bridge, Usb, Storage, Network, Input, Display, Sound, Misc, Cpu, Watchdog,
                                      Uncategorized };

// What a type's complete() may look at: the rest of the command line.
class DeviceCheckContext {
public:
    virtual ~DeviceCheckContext() = default;
    // nullptr if no -drive has that id.
    virtual const DriveConfig* find_drive(std::string_view id) const = 0;
    // How many devices of type `name` the machine creates before this one.
    virtual unsigned count_before(std::string_view name) const = 0;
    // QEMU's qemu_find_file: NAME itself if readable, else NAME in the -L
    // directories, then the system's firmware directories; "" if none.
    virtual std::string find_data_file(const std::string& name) const = 0;
    // The devices created before this one (board devices, then -device).
    virtual std::vector<const DeviceConfig*> devices_before() const { return {}; }
};

struct DeviceType {
    std::string_view name;            // "isa-serial"
    BusKind bus;
    DeviceCategory category;
    std::string_view description;     // -device help's "desc", empty: none
    std::span<const PropertySpec> properties;  // its own, in QEMU's qtree order
    std::unique_ptr<Device> (*create)(DeviceConfig config);
    std::string_view qom_parent;      // QOM parent type ("pci-device", "isa-device", "sys-bus-device")
    bool user_creatable = true;       // -device may create it (the board's own are not)
    std::string_view alias = {};      // "virtio-blk" for virtio-blk-pci
    BusKind child_bus = BusKind::None;  // the bus it provides (PCI host: pci.0, ISA bridge: isa.0)
    // The QOM child type that holds some of its options in QEMU (the
    // virtio-blk-device below virtio-blk-pci, the serial below isa-serial):
    // errors about those options name it, and -global reaches them by it.
    std::string_view backend = {};
    // QEMU properties kestrel does not implement: a clearer error than
    // "not found". The device's own; those of its transport (a virtio-pci
    // proxy's, shared by every virtio device); PCI's are known here.
    std::span<const std::string_view> unsupported_properties = {};
    std::span<const std::string_view> transport_unsupported_properties = {};
    // What QEMU's realize derives from other properties (isa-serial's
    // iobase from its index) and the checks it makes that need nothing
    // opened (a missing drive, bad queue counts). Run while the command
    // line is read, so that these errors come before any side effect.
    // Throws ConfigError.
    void (*complete)(DeviceConfig& device, const DeviceCheckContext& context) = nullptr;
    // A PCI function with an expansion ROM: it has QEMU's romfile=, romsize=
    // and rombar= (devices/pci/pci_rom.h), and this is its default romfile
    // (PCIDeviceClass's; empty for none).
    bool has_rom = false;
    std::string_view romfile = {};

    // A QEMU 7.2 property of this type that kestrel lacks (one it has is
    // looked up first, so the lists may name a property a device does have).
    bool unsupported(std::string_view key) const;
    // Its properties and those of its bus (PCI's "addr"), in qtree order.
    std::vector<const PropertySpec*> all_properties() const;
    PropertyValues default_values() const { return {std::string(name), all_properties(), std::string(backend)}; }
};

// The name of a category as "-device help" titles it ("Storage devices").
std::string_view category_title(DeviceCategory category);
// A bus kind as qtree and -device help print it ("PCI"), and the name of
// the pc machine's one bus of that kind ("pci.0").
std::string_view bus_type_name(BusKind bus);
std::string_view bus_instance_name(BusKind bus);
// QEMU's name of the bus a controller with qdev id `id` provides: "ID.0",
// or "TYPE.N" (usb-bus.1) where N counts the controllers with a bus of that
// type and without an id made before it (QEMU's automatic bus ids, never
// reused after an unplug).
std::string controller_bus_name(BusKind bus, const std::string& id, unsigned unnamed_before);
// The same for an IDE controller's two buses: "ID.0" and "ID.1", or
// "ide.2N" and "ide.2N+1" where N counts the unnamed IDE controllers before
// it (the board's own is the first: ide.0, ide.1).
std::array<std::string, 2> ide_bus_names(const std::string& id, unsigned unnamed_before);

} // namespace kestrel
