// "VGA" (-vga std): QEMU's standard VGA, PCI 1234:1111, with the Bochs VBE
// registers, VRAM as a prefetchable BAR 0 and QEMU's MMIO BAR 2 (EDID, the
// VGA and VBE registers, the byte-order register).
#include "base/config_error.h"
#include "devices/device_context.h"
#include "devices/pci/pci_function_device.h"
#include "devices/vga/edid.h"
#include "devices/vga/vga_bios.h"
#include "devices/vga/vga_display.h"
#include "devices/vga/vga_legacy.h"

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint32, "vgamem_mb", 16),
    prop_bool("mmio", true, "on/off"),
    prop_bool("qemu-extended-regs", true, "on/off"),
    prop_bool("edid", true, "on/off"),
    prop_uint(PropType::Uint32, "xres", 0),
    prop_uint(PropType::Uint32, "yres", 0),
    prop_uint(PropType::Uint32, "xmax", 0),
    prop_uint(PropType::Uint32, "ymax", 0),
    prop_uint(PropType::Uint32, "refresh_rate", 0),
};
constexpr std::string_view kUnsupported[] = {"big-endian-framebuffer", "global-vmstate"};  // and every PCI device's

// The MMIO BAR: EDID at 0, VGA ports 0x3c0-0x3df at 0x400 (bytes), VBE
// registers at 0x500 (16 bits each), QEMU's extension at 0x600.
class StdVgaMmio final : public BusDevice {
public:
    StdVgaMmio(std::shared_ptr<VgaCore> core, const std::array<uint8_t, 128>* edid, bool qext)
        : core_(std::move(core)), qext_(qext) {
        if (edid) std::copy(edid->begin(), edid->end(), edid_.begin());
    }

    void read(uint64_t offset, std::span<uint8_t> data) override {
        for (size_t i = 0; i < data.size(); ++i) data[i] = read_byte(offset + i);
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        using namespace vga;
        if (offset >= MMIO_VGA_PORTS && offset + data.size() <= MMIO_VGA_PORTS + MMIO_VGA_PORTS_SIZE) {
            for (size_t i = 0; i < data.size(); ++i) core_->port_write(uint16_t(0x3c0 + offset - MMIO_VGA_PORTS + i), data[i]);
        } else if (offset >= MMIO_BOCHS && offset < MMIO_BOCHS + MMIO_BOCHS_SIZE) {
            for (size_t i = 0; i + 2 <= data.size() || i == 0; i += 2) {
                uint16_t v = uint16_t(data[i] | (i + 1 < data.size() ? data[i + 1] << 8 : 0));
                core_->vbe_write(uint16_t((offset + i - MMIO_BOCHS) / 2), v);
                if (data.size() < 2) break;
            }
        } else if (qext_ && offset == MMIO_QEXT + 4 && data.size() == 4) {
            uint32_t v = uint32_t(load_le(data));
            if (v == QEXT_BYTEORDER_LE) core_->set_big_endian(false);
            if (v == QEXT_BYTEORDER_BE) core_->set_big_endian(true);
        }
    }

private:
    uint8_t read_byte(uint64_t offset) {
        using namespace vga;
        if (offset < MMIO_EDID_SIZE) return offset < edid_.size() ? edid_[offset] : 0;
        if (offset >= MMIO_VGA_PORTS && offset < MMIO_VGA_PORTS + MMIO_VGA_PORTS_SIZE)
            return core_->port_read(uint16_t(0x3c0 + offset - MMIO_VGA_PORTS));
        if (offset >= MMIO_BOCHS && offset < MMIO_BOCHS + MMIO_BOCHS_SIZE) {
            uint16_t v = core_->vbe_read(uint16_t((offset - MMIO_BOCHS) / 2));
            return uint8_t(v >> (8 * (offset & 1)));
        }
        if (qext_ && offset >= MMIO_QEXT && offset < MMIO_QEXT + MMIO_QEXT_SIZE) {
            uint32_t v = offset < MMIO_QEXT + 4 ? uint32_t(MMIO_QEXT_SIZE)
                                                : (core_->big_endian() ? QEXT_BYTEORDER_BE : QEXT_BYTEORDER_LE);
            return uint8_t(v >> (8 * (offset & 3)));
        }
        return 0;
    }

    std::shared_ptr<VgaCore> core_;
    std::array<uint8_t, 128> edid_{};
    bool qext_;
};

class StdVgaFunction final : public PciDevice {
public:
    StdVgaFunction(std::shared_ptr<VgaCore> core, std::shared_ptr<StdVgaMmio> mmio) : core_(std::move(core)) {
        set_ids({0x1234, 0x1111, 0x02, 0x030000});
        add_bar(0, core_->vram_size(), BarKind::Mem32, true, std::make_shared<VgaLinearMemory>(core_), "vga.vram");
        if (mmio) add_bar(2, vga::kMmioBarSize, BarKind::Mem32, false, std::move(mmio), "vga.mmio");
    }

private:
    void bar_moved(unsigned index, std::optional<uint64_t>, std::optional<uint64_t> base) override {
        if (index == 0) core_->map_linear(base, core_->vram_size());
    }
    std::shared_ptr<VgaCore> core_;
};

// vgamem_mb is clamped to 1-512 and rounded up to a power of two, and the
// EDID's preferred mode defaults to 1280x800, as QEMU's realize does.
void complete(DeviceConfig& device, const DeviceCheckContext&) {
    PropertyValues& p = device.props;
    uint64_t mb = std::clamp<uint64_t>(p.uint("vgamem_mb"), 1, 512);
    uint64_t pow2 = 1;
    while (pow2 < mb) pow2 <<= 1;
    p.set_value("vgamem_mb", pow2);
    if (p.uint("xres") == 0) p.set_value("xres", uint64_t(1280));
    if (p.uint("yres") == 0) p.set_value("yres", uint64_t(800));
}

class StdVga final : public VgaDisplayDevice {
public:
    using VgaDisplayDevice::VgaDisplayDevice;

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        const PropertyValues& p = properties();
        core_ = std::make_shared<VgaCore>(p.uint("vgamem_mb") << 20);
        std::shared_ptr<StdVgaMmio> mmio;
        if (p.boolean("mmio")) {
            EdidInfo info{unsigned(p.uint("xres")), unsigned(p.uint("yres")), unsigned(p.uint("xmax")),
                          unsigned(p.uint("ymax")), unsigned(p.uint("refresh_rate"))};
            std::array<uint8_t, 128> edid = make_edid(info);
            mmio = std::make_shared<StdVgaMmio>(core_, p.boolean("edid") ? &edid : nullptr,
                                                p.boolean("qemu-extended-regs"));
        }
        setup_display(context);
        return std::make_shared<StdVgaFunction>(core_, std::move(mmio));
    }
    void plugged(DeviceContext& context) override { map_std_vga_legacy(context, core_); }
};

} // namespace

extern const DeviceType kStdVgaType = {
    .name = "VGA",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Display,
    .description = {},
    .properties = kProperties,
    .create = &create_device<StdVga>,
    .qom_parent = "pci-device",
    .unsupported_properties = kUnsupported,
    .complete = &complete,
    .has_rom = true,
    .romfile = "vgabios-stdvga.bin",
};

} // namespace kestrel
