// query-pci / "info pci": what the guest sees in each function's config
// space, read through the same accessors the guest uses, with the id of
// the device it belongs to.
#include "devices/pci/pci_device.h"
#include "devices/pci/pci_function_device.h"
#include "machine/pc_board.h"
#include "machine/pc_machine.h"
#include "machine/vm_controller.h"

#include <algorithm>

namespace kestrel {
namespace {

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
        bar.address = dev.bar_address(i).value_or(~0ull);  // QEMU's PCI_BAR_UNMAPPED
        bars.push_back(bar);
    }
    if (uint64_t size = dev.rom_size()) {  // QEMU's PCI_ROM_SLOT: "BAR6", 32-bit memory
        PciBarInfo rom;
        rom.index = pci::BAR_COUNT;
        rom.size = size;
        rom.address = dev.rom_address().value_or(~0ull);
        bars.push_back(rom);
    }
    return bars;
}

PciFunctionInfo describe(PciDevice& dev, const std::string& qdev_id) {
    PciFunctionInfo f;
    f.slot = dev.slot();
    f.function = dev.function();
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
    f.description = pci_class_name(f.class_code, f.subclass);  // none: query-pci has no desc
    f.qdev_id = qdev_id;
    f.bars = describe_bars(dev);
    return f;
}

} // namespace

// In slot and function order, as QEMU walks the bus.
std::vector<PciFunctionInfo> describe_pci_functions(PcMachine& machine) {
    std::vector<PciFunctionInfo> out;
    for (const auto& device : machine.board().devices().devices())
        if (PciDevice* f = device->pci_function()) out.push_back(describe(*f, device->id()));
    std::sort(out.begin(), out.end(), [](const PciFunctionInfo& a, const PciFunctionInfo& b) {
        return a.slot * 8 + a.function < b.slot * 8 + b.function;
    });
    return out;
}

} // namespace kestrel
