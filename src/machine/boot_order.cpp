#include "machine/boot_order.h"

#include "devices/pci/pci_device.h"

#include <algorithm>
#include <cstdio>

namespace kestrel {
namespace {

// The PCI host bridge's node: its config address port.
constexpr std::string_view kPciHostPath = "/pci@i0cf8";

// QEMU's firmware name of a PCI function by its class (pci_class_descriptions'
// fw_name), for the classes of kestrel's bootable devices; else "pciVVVV,DDDD".
std::string pci_fw_name(PciDevice& function) {
    switch (function.config_read(0x0a, 2)) {
    case 0x0100: return "scsi";
    case 0x0101: return "ide";
    case 0x0200: return "ethernet";
    default: break;
    }
    char name[16];
    std::snprintf(name, sizeof name, "pci%04x,%04x", function.config_read(0x00, 2),
                  function.config_read(0x02, 2));
    return name;
}

// "/pci@i0cf8/ide@1,1": the function number only where it is not 0.
std::string pci_path(const Device& device) {
    PciDevice* function = device.pci_function();
    if (!function || !function->attached()) return {};
    char at[16];
    if (function->function())
        std::snprintf(at, sizeof at, "@%x,%x", function->slot(), function->function());
    else
        std::snprintf(at, sizeof at, "@%x", function->slot());
    return std::string(kPciHostPath) + "/" + pci_fw_name(*function) + at;
}

// What each bootable type adds below its node (QEMU's add_boot_device_path suffixes).
std::string_view boot_suffix(std::string_view type) {
    if (type == "virtio-blk-pci") return "/disk@0,0";
    if (type == "virtio-net-pci" || type == "e1000") return "/ethernet-phy@0";
    return {};
}

} // namespace

std::string boot_device_path(const DeviceTree& tree, const Device& device) {
    if (device.type().bus == BusKind::Ide) {
        const auto place = tree.ide_bus_place(device.config().bus);
        if (!place) return {};
        return pci_path(*place->controller) + "/drive@" + std::to_string(place->bus_number) + "/disk@" +
               std::to_string(device.properties().uint("unit"));
    }
    const std::string_view suffix = boot_suffix(device.type().name);
    if (suffix.empty()) return {};
    const std::string node = pci_path(device);
    return node.empty() ? std::string() : node + std::string(suffix);
}

std::vector<uint8_t> boot_order_file(const DeviceTree& tree, bool strict,
                                     const std::vector<std::pair<int64_t, std::string>>& others) {
    std::vector<std::pair<int64_t, std::string>> entries = others;
    for (const auto& device : tree.devices()) {
        const PropertyValues& p = device->properties();
        if (!p.find("bootindex") || !p.optional_int("bootindex") || *p.optional_int("bootindex") < 0) continue;
        std::string path = boot_device_path(tree, *device);
        if (!path.empty()) entries.emplace_back(*p.optional_int("bootindex"), std::move(path));
    }
    std::stable_sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::string text;
    for (const auto& [index, path] : entries) text += (text.empty() ? "" : "\n") + path;
    if (text.empty()) return {};
    if (strict) text += "\nHALT";
    std::vector<uint8_t> out(text.begin(), text.end());
    out.push_back(0);
    return out;
}

} // namespace kestrel
