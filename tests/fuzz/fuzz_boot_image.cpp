// -kernel files of any content as kestrel opens them (BootImage::open: a
// bzImage, else a multiboot header in the first 8 KiB, else an ELF kernel
// with a PVH note), from a file in the target's scratch folder, with
// multiboot modules or a PVH initrd from the same folder, then loaded into
// 32 MiB of guest RAM and published in fw_cfg. It must load or refuse with
// a message (std::runtime_error); whatever it writes lies in guest RAM
// (GuestMemory checks every write), and the vCPU starts as the format
// says: multiboot's magic and information, PVH's start info, Linux's zero
// page.
//
// Input: u8 flags (bit 0: -initrd names mod0; bit 1: with an argument and
// an escaped comma; bit 2: and a second module, mod1), u16 mod0's size,
// u16 command line length, then the kernel file's bytes.
#include "devices/fw_cfg/fw_cfg.h"
#include "fuzz_support.h"
#include "kvm/guest_memory.h"
#include "kvm/pc_memory_map.h"
#include "machine/boot/boot_image.h"
#include "machine/boot/linux_boot.h"
#include "machine/boot/multiboot.h"
#include "machine/boot/pvh.h"

#include <stdexcept>

using namespace kestrel;

namespace {

constexpr uint64_t kRam = 32ull << 20;

std::string module_list(uint8_t flags, uint16_t mod0_size) {
    if (!(flags & 1)) return "";
    const std::vector<uint8_t> mod0(mod0_size, 0x6d);
    std::string list = fuzz::write_scratch_file("mod0", mod0.data(), mod0.size());
    if (flags & 2) list += " root=/dev/x,,y";
    if (flags & 4) list += "," + fuzz::write_scratch_file("mod1", "1", 1) + " second";
    return list;
}

void check_entry(BootImage& image, const BootEntry& entry) {
    if (dynamic_cast<MultibootImage*>(&image)) {
        FUZZ_CHECK(entry.mode == BootEntry::Mode::Protected32 && entry.eax == multiboot::BOOT_MAGIC &&
                       entry.ebx == multiboot::INFO_ADDR,
                   "a multiboot entry without its magic and information");
    } else if (dynamic_cast<PvhImage*>(&image)) {
        FUZZ_CHECK(entry.mode == BootEntry::Mode::Protected32 && entry.ebx == pvh::START_INFO_ADDR,
                   "a PVH entry without its start info");
    } else {
        FUZZ_CHECK(entry.mode == BootEntry::Mode::Long64 && entry.rsi == pc::ZERO_PAGE_ADDR,
                   "a Linux entry without its zero page");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::ByteReader in(data, size);
    const uint8_t flags = in.u8();
    const uint16_t mod0_size = in.u16();
    const uint16_t cmdline_size = in.u16();
    const auto kernel = in.rest();

    static const GuestMemory mem = GuestMemory::create_flat(kRam);
    static const bool cache_set = (fuzz::use_scratch_kernel_cache(), true);
    (void)cache_set;
    BootFiles files;
    files.kernel = fuzz::write_scratch_file("kernel", kernel.data(), kernel.size());
    files.initrd = module_list(flags, mod0_size);
    files.cmdline = std::string(cmdline_size % 4096, 'c');
    try {
        std::unique_ptr<BootImage> image = BootImage::open(files, mem.below_4g());
        BootEntry entry = image->load_into(mem, 0xe0000);
        check_entry(*image, entry);
        FwCfg fw_cfg(mem, 32, true);
        image->publish(fw_cfg, mem.below_4g());
    } catch (const std::runtime_error& e) {
        FUZZ_CHECK(*e.what() != '\0', "an error without a message");
    }
    return 0;
}
