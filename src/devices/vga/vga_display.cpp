#include "devices/vga/vga_display.h"

#include "base/config_error.h"
#include "base/service_registry.h"
#include "devices/device_context.h"
#include "devices/vga/vga_bios.h"
#include "ui/display_service.h"

#include <spdlog/spdlog.h>

namespace kestrel {

void VgaDisplayDevice::setup_display(DeviceContext& context) {
    // Without firmware kestrel draws the VGA BIOS's text mode itself, with
    // the ROM's font (the one file read at start-up for direct boot).
    const std::optional<RomFile>& rom = config().rom;
    if (rom && !rom->path.empty() && !context.board().firmware_boot) {
        font_ = vga_bios_font(read_rom_file(rom->path));
        if (font_.empty()) spdlog::warn("{}: no 8x16 font found in the VGA BIOS {}", type().name, rom->path);
    }
    Console* console = nullptr;
    if (auto* displays = context.services().find<DisplayService>())
        console = &displays->add_console(id(), qom_path(), *core_);
    core_->attach(context.device_memory(), console);
    firmware_boot_ = context.board().firmware_boot;
}

void VgaDisplayDevice::realize(DeviceContext& context) {
    PciFunctionDevice::realize(context);
    if (!firmware_boot_) post();
}

void VgaDisplayDevice::reset() {
    PciFunctionDevice::reset();
    core_->reset();
    if (!firmware_boot_) post();
}

// Without a VGA BIOS (romfile="") there is no font: the screen stays as
// the hardware powers on, as under QEMU.
void VgaDisplayDevice::post() {
    if (!font_.empty()) core_->post_text_mode(font_);
}

} // namespace kestrel
