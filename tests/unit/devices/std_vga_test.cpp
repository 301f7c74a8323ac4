// The "VGA" device: PCI identity, BARs, QEMU's MMIO BAR, the EDID, the
// linear framebuffer as a dirty-logged slot, the text console it sets up
// without firmware.
#include "devices/pci/pci_regs.h"
#include "devices/vga/edid.h"
#include "devices/vga/vga_display.h"
#include "fake_device_context.h"
#include "ui/display_service.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

PciDevice& fn(const std::unique_ptr<Device>& dev) { return *dev->pci_function(); }
uint32_t cfg_read(const std::unique_ptr<Device>& dev, uint16_t offset, unsigned len = 4) {
    return fn(dev).config_read(offset, len);
}
void cfg_write(const std::unique_ptr<Device>& dev, uint16_t offset, uint32_t value, unsigned len = 4) {
    fn(dev).config_write(offset, len, value);
}
uint64_t mmio_read(FakeDeviceContext& ctx, uint64_t addr, unsigned len) {
    uint8_t buf[8] = {};
    ctx.mmio_bus.read(addr, {buf, len});
    return load_le({buf, len});
}
void mmio_write(FakeDeviceContext& ctx, uint64_t addr, uint64_t value, unsigned len) {
    uint8_t buf[8];
    store_le({buf, len}, value);
    ctx.mmio_bus.write(addr, {buf, len});
}

} // namespace

TEST_CASE("VGA device: 1234:1111 rev 2, 16 MiB prefetchable VRAM BAR, 4 KiB MMIO BAR", "[vga]") {
    FakeDeviceContext ctx;
    DisplayService displays;
    ctx.registry.add<DisplayService>(displays);
    auto dev = ctx.realize("VGA", {{"addr", "2"}, {"romfile", ""}});
    CHECK(cfg_read(dev, 0x00) == 0x11111234);
    CHECK(cfg_read(dev, 0x08) == 0x03000002);
    cfg_write(dev, 0x10, 0xffffffff);
    CHECK(cfg_read(dev, 0x10) == 0xff000008);
    cfg_write(dev, 0x18, 0xffffffff);
    CHECK(cfg_read(dev, 0x18) == 0xfffff000);
    CHECK(displays.consoles().size() == 1);
}

TEST_CASE("VGA device: the linear framebuffer becomes a dirty-logged slot where the guest puts it", "[vga]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("VGA", {{"addr", "2"}, {"romfile", ""}, {"vgamem_mb", "4"}});
    cfg_write(dev, 0x10, 0xe0000000);
    cfg_write(dev, 0x04, pci::COMMAND_MEMORY, 2);
    const auto* slot = ctx.device_mem->at(0xe0000000);
    REQUIRE(slot);
    CHECK(slot->size == 4u << 20);
    CHECK(slot->log_dirty);
    cfg_write(dev, 0x04, 0, 2);
    CHECK(ctx.device_mem->at(0xe0000000) == nullptr);
}

TEST_CASE("VGA device: the MMIO BAR's VBE registers, VGA ports, EDID and byte order", "[vga]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("VGA", {{"addr", "2"}, {"romfile", ""}});
    cfg_write(dev, 0x18, 0xfe000000);
    cfg_write(dev, 0x04, pci::COMMAND_MEMORY, 2);
    uint64_t bar = 0xfe000000;
    CHECK(mmio_read(ctx, bar + 0x500, 2) == vga::VBE_ID5);
    mmio_write(ctx, bar + 0x500 + 2 * vga::VBE_INDEX_XRES, 1024, 2);
    CHECK(mmio_read(ctx, bar + 0x502, 2) == 1024);
    CHECK(ctx.in(0x1ce, 2) == 0);  // the port pair is another way in
    ctx.out(0x1ce, vga::VBE_INDEX_XRES, 2);
    CHECK(ctx.in(0x1cf, 2) == 1024);
    mmio_write(ctx, bar + 0x400 + 4, 0x0302, 2);  // SR index 2 = 3, as two byte writes
    CHECK(ctx.in(0x3c5, 1) == 0x03);
    CHECK(mmio_read(ctx, bar, 8) == 0x00ffffffffffff00ull);  // EDID header
    uint8_t sum = 0;
    for (unsigned i = 0; i < 128; ++i) sum = uint8_t(sum + mmio_read(ctx, bar + i, 1));
    CHECK(sum == 0);
    CHECK(mmio_read(ctx, bar + 0x600, 4) == 8);
    CHECK(mmio_read(ctx, bar + 0x604, 4) == vga::QEXT_BYTEORDER_LE);
    mmio_write(ctx, bar + 0x604, vga::QEXT_BYTEORDER_BE, 4);
    CHECK(mmio_read(ctx, bar + 0x604, 4) == vga::QEXT_BYTEORDER_BE);
    mmio_write(ctx, bar + 0x604, 0x12345678, 4);  // neither: unchanged
    CHECK(mmio_read(ctx, bar + 0x604, 4) == vga::QEXT_BYTEORDER_BE);
    CHECK(mmio_read(ctx, bar + 0xff8, 8) == 0);
}

TEST_CASE("VGA device: without firmware it leaves the VGA BIOS's 80x25 text mode with its font", "[vga]") {
    FakeDeviceContext ctx;
    DisplayService displays;
    ctx.registry.add<DisplayService>(displays);
    const DeviceType* type = find_device_type("VGA");
    DeviceConfig config{"", type, "", false, type->default_values()};
    config.props.set("addr", "2");
    config.props.set("romfile", "vgabios-stdvga.bin");
    config.rom = RomFile{"/usr/share/seabios/vgabios-stdvga.bin", 39936, 65536, true};  // as the parser finds it
    auto dev = ctx.realize(std::move(config));
    Surface s = displays.consoles().front()->snapshot();
    CHECK(s.width() == 720);
    CHECK(s.height() == 400);
    auto* vga = dynamic_cast<VgaDisplayDevice*>(dev.get());
    REQUIRE(vga);
    CHECK(vga->core()->vram()[2 + 4 * (32 * 'A' + 2)] == 0x10);  // line 2 of 'A' in plane 2
    // The VGA BIOS in the ROM BAR, as SeaBIOS would find it.
    PciDevice* f = dev->pci_function();
    f->config_write(pci::ROM_ADDRESS, 4, 0xffffffff);
    CHECK(f->config_read(pci::ROM_ADDRESS, 4) == 0xffff0001);
    f->config_write(pci::ROM_ADDRESS, 4, 0xfeb00001);
    f->config_write(pci::COMMAND, 2, pci::COMMAND_MEMORY);
    CHECK(mmio_read(ctx, 0xfeb00000, 2) == 0xaa55);
}

TEST_CASE("EDID: header, checksum, the preferred mode in the first timing", "[vga]") {
    auto e = make_edid({1024, 768, 0, 0, 0});
    CHECK(e[0] == 0x00);
    CHECK(e[1] == 0xff);
    uint8_t sum = 0;
    for (uint8_t b : e) sum = uint8_t(sum + b);
    CHECK(sum == 0);
    CHECK((e[56] | ((e[58] & 0xf0) << 4)) == 1024);
    CHECK((e[59] | ((e[61] & 0xf0) << 4)) == 768);
    auto absurd = make_edid({100000, 0, 0xffffffff, 0xffffffff, 0xffffffff});
    sum = 0;
    for (uint8_t b : absurd) sum = uint8_t(sum + b);
    CHECK(sum == 0);
}
