#include "machine/boot/boot_image.h"

#include "machine/boot/elf_image.h"
#include "machine/boot/file_bytes.h"
#include "machine/boot/linux_boot.h"
#include "machine/boot/multiboot.h"
#include "machine/boot/pvh.h"
#include "machine/boot/setup_header.h"

#include <cstring>
#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {

std::unique_ptr<BootImage> BootImage::open(const BootFiles& files, uint64_t ram_below_4g) {
    std::shared_ptr<const FileBytes> file;
    if (int err = FileBytes::open(files.kernel, file))
        throw std::runtime_error(fmt::format("could not load kernel '{}': {}", files.kernel, std::strerror(err)));
    if (is_bzimage(*file)) {
        LinuxBootParams params{files.kernel, files.initrd, files.cmdline, 0};
        params.vga_text_console = files.vga_text_console;
        auto bz = std::make_unique<LinuxImage>(LinuxImage::open_mapped(params, std::move(file)));
        bz->check_fits(ram_below_4g);
        return bz;
    }
    std::vector<uint8_t> kernel(file->begin(), file->end());
    file.reset();
    if (auto header = find_multiboot_header(kernel))
        return MultibootImage::build(files, std::move(kernel), *header, ram_below_4g);
    if (is_elf(kernel)) return PvhImage::build(files, std::move(kernel), ram_below_4g);
    // QEMU would take anything else for an old zImage, which kestrel cannot
    // boot; too short for its setup sectors, QEMU says this too.
    size_t setup_sects = kernel.size() > 0x1f1 && kernel[0x1f1] ? kernel[0x1f1] : 4;
    if ((setup_sects + 1) * 512 > kernel.size()) throw std::runtime_error("invalid kernel header");
    throw std::runtime_error(fmt::format("could not load kernel '{}': not a Linux bzImage, a multiboot kernel or an "
                                         "ELF kernel with a PVH entry note",
                                         files.kernel));
}

} // namespace kestrel
