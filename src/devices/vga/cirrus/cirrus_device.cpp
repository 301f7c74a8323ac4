// "cirrus-vga" (-vga cirrus): the CL-GD5446 on PCI (1013:00b8), VRAM and
// the blit aperture in BAR 0 (32 MiB), its registers in BAR 1 (4 KiB).
#include "base/config_error.h"
#include "devices/device_context.h"
#include "devices/vga/cirrus/cirrus_vga.h"
#include "devices/vga/vga_display.h"
#include "devices/vga/vga_legacy.h"

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint32, "vgamem_mb", 4),
    prop_bool("blitter", true),
};
constexpr std::string_view kUnsupported[] = {"global-vmstate"};  // and every PCI device's

// BAR0: the linear framebuffer (and the blit aperture) when not mapped
// straight to VRAM; BAR1: the VGA ports and blitter registers.
using CirrusLinear = CoreWindow<CirrusVga, &CirrusVga::linear_io_read, &CirrusVga::linear_io_write>;
using CirrusMmio = CoreWindow<CirrusVga, &CirrusVga::mmio_read, &CirrusVga::mmio_write>;

class CirrusFunction final : public PciDevice {
public:
    explicit CirrusFunction(std::shared_ptr<CirrusVga> core) : core_(std::move(core)) {
        set_ids({0x1013, 0x00b8, 0x00, 0x030000});
        add_bar(0, cirrus::kLinearBarSize, BarKind::Mem32, true, std::make_shared<CirrusLinear>(core_),
                "cirrus-pci-bar0");
        add_bar(1, cirrus::kMmioBarSize, BarKind::Mem32, false, std::make_shared<CirrusMmio>(core_), "cirrus-mmio");
    }

private:
    // VRAM is mapped over the start of BAR 0 whenever it may be plain memory.
    void bar_moved(unsigned index, std::optional<uint64_t>, std::optional<uint64_t> base) override {
        if (index == 0) core_->map_linear(base, core_->vram_size());
    }
    std::shared_ptr<CirrusVga> core_;
};

void complete(DeviceConfig& device, const DeviceCheckContext&) {
    PropertyValues& p = device.props;
    uint64_t mb = p.uint("vgamem_mb");
    if (mb != 4 && mb != 8 && mb != 16) throw ConfigError("Invalid cirrus_vga ram size '" + std::to_string(mb) + "'");
}

class CirrusVgaDevice final : public VgaDisplayDevice {
public:
    using VgaDisplayDevice::VgaDisplayDevice;

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        auto core = std::make_shared<CirrusVga>(properties().uint("vgamem_mb") << 20, properties().boolean("blitter"));
        core_ = core;
        setup_display(context);
        return std::make_shared<CirrusFunction>(core);
    }
    // Cirrus decodes 0x3b0-0x3df as one range ("cirrus-io") and the window
    // as "cirrus-low-memory".
    void plugged(DeviceContext& context) override {
        auto ports = std::make_shared<VgaPortsIo>(core_);
        if (!context.pio().insert(vga::kPortBase, 0x30, ports, "cirrus-io")) return;
        context.mmio().insert(vga::kLegacyBase, vga::kLegacySize, std::make_shared<VgaLowMemory>(core_),
                              "cirrus-low-memory");
    }
};

} // namespace

extern const DeviceType kCirrusVgaType = {
    .name = "cirrus-vga",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Display,
    .description = "Cirrus CLGD 54xx VGA",
    .properties = kProperties,
    .create = &create_device<CirrusVgaDevice>,
    .qom_parent = "pci-device",
    .unsupported_properties = kUnsupported,
    .complete = &complete,
    .has_rom = true,
    .romfile = "vgabios-cirrus.bin",
};

} // namespace kestrel
