#include "devices/device_type.h"

#include <algorithm>

namespace kestrel {

namespace {

// Every PCI device's in QEMU 7.2.
constexpr std::string_view kPciUnsupported[] = {"acpi-index", "failover_pair_id", "multifunction",
                                                "x-pcie-extcap-init", "x-pcie-lnksta-dllla"};

bool listed(std::span<const std::string_view> list, std::string_view key) {
    return std::find(list.begin(), list.end(), key) != list.end();
}

} // namespace

bool DeviceType::unsupported(std::string_view key) const {
    return listed(unsupported_properties, key) || listed(transport_unsupported_properties, key) ||
           (bus == BusKind::Pci && listed(kPciUnsupported, key));
}

std::vector<const PropertySpec*> DeviceType::all_properties() const {
    std::vector<const PropertySpec*> out;
    for (const PropertySpec& p : properties) out.push_back(&p);
    if (bus == BusKind::Pci) out.push_back(&kPciAddrProperty);
    if (bus == BusKind::Pci && has_rom)
        for (const PropertySpec& p : kPciRomProperties) out.push_back(&p);
    if (bus == BusKind::Ide) out.push_back(&kIdeUnitProperty);
    return out;
}

std::string_view category_title(DeviceCategory category) {
    switch (category) {
    case DeviceCategory::Bridge: return "Controller/Bridge/Hub devices";
    case DeviceCategory::Usb: return "USB devices";
    case DeviceCategory::Storage: return "Storage devices";
    case DeviceCategory::Network: return "Network devices";
    case DeviceCategory::Input: return "Input devices";
    case DeviceCategory::Display: return "Display devices";
    case DeviceCategory::Sound: return "Sound devices";
    case DeviceCategory::Misc: return "Misc devices";
    case DeviceCategory::Cpu: return "CPU devices";
    case DeviceCategory::Watchdog: return "Watchdog devices";
    case DeviceCategory::Uncategorized: return "Uncategorized devices";
    }
    return "Uncategorized devices";
}

std::string_view bus_type_name(BusKind bus) {
    switch (bus) {
    case BusKind::System: return "System";
    case BusKind::Pci: return "PCI";
    case BusKind::Isa: return "ISA";
    case BusKind::Usb: return "usb-bus";
    case BusKind::Ide: return "IDE";
    case BusKind::VirtioSerial: return "virtio-serial-bus";
    case BusKind::None: break;
    }
    return "";
}

std::string controller_bus_name(BusKind bus, const std::string& id, unsigned unnamed_before) {
    if (!id.empty()) return id + ".0";
    return std::string(bus_type_name(bus)) + "." + std::to_string(unnamed_before);
}

std::array<std::string, 2> ide_bus_names(const std::string& id, unsigned unnamed_before) {
    if (!id.empty()) return {id + ".0", id + ".1"};
    return {"ide." + std::to_string(2 * unnamed_before), "ide." + std::to_string(2 * unnamed_before + 1)};
}

std::string_view bus_instance_name(BusKind bus) {
    switch (bus) {
    case BusKind::System: return "main-system-bus";
    case BusKind::Pci: return "pci.0";
    case BusKind::Isa: return "isa.0";
    case BusKind::Usb: return "usb-bus.0";
    case BusKind::Ide: return "ide.0";
    case BusKind::VirtioSerial: return "virtio-serial-bus.0";
    case BusKind::None: break;
    }
    return "";
}

} // namespace kestrel
