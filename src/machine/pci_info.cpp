// query-pci / "info pci": what the guest sees in each function's config
// space, read through the same accessors the guest uses.
#include "devices/pci/pci_bus.h"
#include "devices/pci/pci_device.h"
#include "machine/pc_board.h"
#include "machine/pc_machine.h"
#include "machine/vm_controller.h"

#include <fmt/format.h>

namespace kestrel {
namespace {

// QEMU's names for PCI classes (base class << 8 | subclass).
std::string class_description(uint8_t base, uint8_t sub) {
    static const std::pair<uint16_t, const char*> names[] = {
        {0x0100, "SCSI controller"},     {0x0101, "IDE controller"},      {0x0106, "SATA controller"},
        {0x0180, "Storage controller"},  {0x0200, "Ethernet controller"}, {0x0280, "Network controller"},
        {0x0300, "VGA controller"},      {0x0380, "Display controller"},  {0x0401, "Audio controller"},
        {0x0403, "Audio controller"},    {0x0500, "RAM controller"},      {0x0600, "Host bridge"},
        {0x0601, "ISA bridge"},          {0x0604, "PCI bridge"},          {0x0680, "Bridge"},
        {0x0700, "Serial port"},         {0x0800, "Interrupt controller"}, {0x0c03, "USB controller"},
        {0x0c05, "SMBus"},               {0x00ff, "Unclassified"},
    };
    uint16_t cls = uint16_t(base) << 8 | sub;
    for (auto [code, name] : names)
        if (code == cls) return name;
    return fmt::format("Class {:04x}", cls);
}

std::vector<PciBarInfo> describe_bars(PciDevice& dev) {
    std::vector<PciBarInfo> bars;
    for (unsigned i = 0; i < pci::BAR_COUNT; ++i) {
        auto spec = dev.bar_spec(i);
        if (!spec) continue;
        PciBarInfo bar;
        bar.index = i;
        bar.io = spec->kind == BarKind::Io;
        bar.mem64 = spec->kind == BarKind::Mem64;
        bar.prefetchable = spec->prefetchable;
        bar.size = spec->size;
        uint64_t raw = dev.config_read(uint16_t(0x10 + 4 * i), 4);
        if (bar.mem64) raw |= uint64_t(dev.config_read(uint16_t(0x14 + 4 * i), 4)) << 32;
        bar.address = raw & bar_address_mask(*spec);
        bars.push_back(bar);
    }
    return bars;
}

PciFunctionInfo describe(PciDevice& dev, unsigned slot, unsigned function) {
    PciFunctionInfo f;
    f.slot = slot;
    f.function = function;
    f.vendor_id = uint16_t(dev.config_read(0x00, 2));
    f.device_id = uint16_t(dev.config_read(0x02, 2));
    f.revision = uint8_t(dev.config_read(0x08, 1));
    f.prog_if = uint8_t(dev.config_read(0x09, 1));
    f.subclass = uint8_t(dev.config_read(0x0a, 1));
    f.class_code = uint8_t(dev.config_read(0x0b, 1));
    f.subsystem_vendor_id = uint16_t(dev.config_read(0x2c, 2));
    f.subsystem_id = uint16_t(dev.config_read(0x2e, 2));
    f.irq_line = uint8_t(dev.config_read(0x3c, 1));
    f.irq_pin = uint8_t(dev.config_read(0x3d, 1));
    f.description = class_description(f.class_code, f.subclass);
    f.bars = describe_bars(dev);
    return f;
}

} // namespace

std::vector<PciFunctionInfo> describe_pci_functions(PcMachine& machine) {
    std::vector<PciFunctionInfo> out;
    PciBus& bus = *machine.board().pci;
    for (unsigned slot = 0; slot < pci::SLOTS_PER_BUS; ++slot)
        for (unsigned fn = 0; fn < pci::FUNCTIONS_PER_SLOT; ++fn)
            if (auto dev = bus.device(slot, fn)) out.push_back(describe(*dev, slot, fn));
    return out;
}

} // namespace kestrel
