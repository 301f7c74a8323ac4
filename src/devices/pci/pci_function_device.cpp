#include "devices/pci/pci_function_device.h"

#include "devices/device_context.h"
#include "devices/pci/pci_bus.h"

#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {

std::string pci_class_name(uint8_t base, uint8_t sub) {
    static const std::pair<uint16_t, const char*> names[] = {
        {0x0100, "SCSI controller"},     {0x0101, "IDE controller"},      {0x0106, "SATA controller"},
        {0x0180, "Storage controller"},  {0x0200, "Ethernet controller"}, {0x0280, "Network controller"},
        {0x0300, "VGA controller"},      {0x0380, "Display controller"},  {0x0401, "Audio controller"},
        {0x0403, "Audio controller"},    {0x0500, "RAM controller"},      {0x0600, "Host bridge"},
        {0x0601, "ISA bridge"},          {0x0604, "PCI bridge"},          {0x0680, "Bridge"},
        {0x0700, "Serial port"},         {0x0800, "Interrupt controller"}, {0x0c03, "USB controller"},
        {0x0c05, "SMBus"},
    };
    uint16_t cls = uint16_t(base) << 8 | sub;
    for (auto [code, name] : names)
        if (code == cls) return name;
    return {};
}

std::string pci_class_description(uint8_t base, uint8_t sub) {
    std::string name = pci_class_name(base, sub);
    return name.empty() ? fmt::format("Class {:04x}", uint16_t(base) << 8 | sub) : name;
}

void PciFunctionDevice::realize(DeviceContext& context) {
    function_ = make_function(context);
    const DeviceConfig& c = config();
    if (!context.pci().add_device(c.pci_slot(), c.pci_function(), function_))
        throw std::runtime_error(fmt::format("PCI: slot {} function {} not available for {}", c.pci_slot(),
                                             c.pci_function(), type().name));
    plugged(context);
}

void PciFunctionDevice::reset() {
    if (function_) function_->reset();
}

// "class SCSI controller, addr 00:02.0, pci id 1af4:1001 (sub 1af4:0002)"
// and one line per BAR ("bar 4: mem at 0xffffffffffffffff [0x3ffe]" while
// it does not decode), as QEMU prints them.
void PciFunctionDevice::describe(QtreeNode& node) const {
    Device::describe(node);
    if (!function_) return;
    PciDevice& f = *function_;
    node.lines.push_back(fmt::format(
        "class {}, addr 00:{:02x}.{}, pci id {:04x}:{:04x} (sub {:04x}:{:04x})",
        pci_class_description(uint8_t(f.config_read(0x0b, 1)), uint8_t(f.config_read(0x0a, 1))), f.slot(),
        f.function(), f.config_read(0x00, 2), f.config_read(0x02, 2), f.config_read(0x2c, 2),
        f.config_read(0x2e, 2)));
    for (unsigned i = 0; i < pci::BAR_COUNT; ++i) {
        auto spec = f.bar_spec(i);
        if (!spec) continue;
        uint64_t at = f.bar_address(i).value_or(~0ull);
        node.lines.push_back(fmt::format("bar {}: {} at 0x{:x} [0x{:x}]", i,
                                         spec->kind == BarKind::Io ? "i/o" : "mem", at, at + spec->size - 1));
    }
}

} // namespace kestrel
