#include "devices/pci/pci_function_device.h"

#include "devices/device_context.h"
#include "devices/device_memory.h"
#include "devices/pci/pci_bus.h"

#include <cstdio>

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
    return "";
}

std::string pci_class_description(uint8_t base, uint8_t sub) {
    std::string name = pci_class_name(base, sub);
    return name.empty() ? fmt::format("Class {:04x}", uint16_t(base) << 8 | sub) : name;
}

void PciFunctionDevice::realize(DeviceContext& context) {
    function_ = make_function(context);
    add_option_rom(context);
    const DeviceConfig& c = config();
    if (!context.pci().add_device(c.pci_slot(), c.pci_function(), function_))
        throw std::runtime_error(fmt::format("PCI: slot {} function {} not available for {}", c.pci_slot(),
                                             c.pci_function(), type().name));
    plugged(context);
}

// QEMU's pci_add_option_rom: in the ROM BAR, or (rombar=0) given to the
// firmware as an fw_cfg file, "vgaroms/NAME" for a VGA card and
// "genroms/NAME" otherwise. Without firmware nothing reads the file.
std::string rom_file_basename(const std::string& name) {
    size_t slash = name.find_last_of('/');
    return slash == std::string::npos ? name : name.substr(slash + 1);
}

void PciFunctionDevice::add_option_rom(DeviceContext& context) {
    const std::optional<RomFile>& rom = config().rom;
    if (!rom) return;
    if (properties().uint("rombar") == 0) {
        const std::string& name = properties().str("romfile");
        if (rom->path.empty()) {
            std::fprintf(stderr, "Could not open option rom '%s': No such file or directory\n", name.c_str());
            return;
        }
        bool vga = function_->config_read(pci::CLASS_PROG + 1, 2) == 0x0300;
        firmware_rom_ = FirmwareRom{std::string(vga ? "vgaroms/" : "genroms/") + rom_file_basename(name), rom->path};
        return;
    }
    rom_image_ = PciRomImage::open_file(rom->path, rom->file_size, rom->rom_size);
    rom_memory_ = context.device_memory();
    // QEMU names the region after the device's migration state ("vga.rom").
    std::string_view vmsd = type().name == "VGA" ? "vga" : type().name == "cirrus-vga" ? "cirrus_vga" : type().name;
    std::string name = std::string(vmsd) + ".rom";
    function_->add_rom(rom_image_, name, rom->is_default,
                       [this](std::optional<uint64_t> base) { rom_moved(base); });
}

// The ROM BAR moved: a read-only KVM slot serves its reads without exits
// (the bus handler stays beneath for writes, and where no slot fits).
void PciFunctionDevice::rom_moved(std::optional<uint64_t> base) {
    if (!rom_memory_) return;
    if (rom_slot_) rom_memory_->unmap(*rom_slot_);
    rom_slot_.reset();
    if (base && rom_image_->size() % DeviceMemory::kPageSize == 0)
        rom_slot_ = rom_memory_->map_read_only(*base, rom_image_->size(), rom_image_->data());
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
    if (uint64_t size = f.rom_size()) {  // the ROM is QEMU's bar 6
        uint64_t at = f.rom_address().value_or(~0ull);
        node.lines.push_back(fmt::format("bar {}: mem at 0x{:x} [0x{:x}]", pci::BAR_COUNT, at, at + size - 1));
    }
}

} // namespace kestrel
