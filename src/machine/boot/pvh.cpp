#include "machine/boot/pvh.h"

#include "devices/fw_cfg/fw_cfg.h"
#include "kvm/guest_memory.h"
#include "kvm/pc_memory_map.h"
#include "machine/boot/e820.h"
#include "machine/boot/file_bytes.h"

#include <cstring>
#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {
namespace {

using namespace pvh;

constexpr uint64_t PAGE = 0x1000;

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

template <typename T> void put(std::vector<uint8_t>& b, size_t off, T v) { std::memcpy(b.data() + off, &v, sizeof v); }

} // namespace

std::optional<uint32_t> pvh_entry(const ElfImage& elf) {
    for (const ElfNote& note : elf.notes) {
        if (note.name != "Xen" || note.type != XEN_ELFNOTE_PHYS32_ENTRY || note.desc.size() < 4) continue;
        uint32_t entry;
        std::memcpy(&entry, note.desc.data(), 4);
        return entry;
    }
    return std::nullopt;
}

std::unique_ptr<PvhImage> PvhImage::build(const BootFiles& files, std::vector<uint8_t> kernel, uint64_t ram_below_4g) {
    auto img = std::unique_ptr<PvhImage>(new PvhImage());
    img->files_ = files;
    img->file_ = std::make_shared<const std::vector<uint8_t>>(std::move(kernel));
    img->elf_ = parse_elf(*img->file_);
    if (img->elf_.machine != ELF_MACHINE_386 && img->elf_.machine != ELF_MACHINE_X86_64)
        fail("Error while loading elf kernel");
    std::optional<uint32_t> entry = pvh_entry(img->elf_);
    if (!entry) fail("Error loading uncompressed kernel without PVH ELF Note");
    img->entry_ = *entry;
    if (img->elf_.high > ram_below_4g)
        fail(fmt::format("could not load kernel '{}': it needs guest RAM up to {:#x}, but there is only {:#x} "
                         "below 4 GiB",
                         files.kernel, img->elf_.high, ram_below_4g));
    if (files.cmdline.size() >= pc::CMDLINE_MAX)
        fail(fmt::format("kernel command line is too long: {} bytes, at most {}", files.cmdline.size(),
                         pc::CMDLINE_MAX - 1));
    std::vector<uint8_t> initrd;
    if (!files.initrd.empty()) {
        if (int err = read_file_bytes(files.initrd, initrd))
            fail(fmt::format("error reading initrd {}: {}", files.initrd, std::strerror(err)));
    }
    img->initrd_ = std::make_shared<const std::vector<uint8_t>>(std::move(initrd));
    img->check_fits(ram_below_4g);
    return img;
}

uint64_t PvhImage::initrd_addr(uint64_t ram_below_4g) const {
    return (ram_below_4g - initrd_->size()) & ~(PAGE - 1);
}

void PvhImage::check_fits(uint64_t ram_below_4g) const {
    uint64_t kernel_end = (elf_.high + PAGE - 1) & ~(PAGE - 1);
    if (elf_.high > ram_below_4g)
        fail(fmt::format("could not load kernel '{}': it needs guest RAM up to {:#x}, but there is only {:#x} "
                         "below 4 GiB",
                         files_.kernel, elf_.high, ram_below_4g));
    if (initrd_->size() > ram_below_4g - kernel_end)
        fail(fmt::format("initrd is too large, cannot support (max: {}, need {}): initial ram disk '{}' must fit "
                         "between the kernel's end at {:#x} and {:#x}",
                         ram_below_4g - kernel_end, initrd_->size(), files_.initrd, kernel_end, ram_below_4g));
}

// struct hvm_start_info (version 1): magic, version, flags, nr_modules,
// modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr, memmap_entries.
std::vector<uint8_t> PvhImage::start_info(uint64_t rsdp_addr, size_t memmap_entries) const {
    std::vector<uint8_t> info(56, 0);
    put<uint32_t>(info, 0, START_MAGIC);
    put<uint32_t>(info, 4, 1);
    put<uint32_t>(info, 12, initrd_->empty() ? 0 : 1);
    put<uint64_t>(info, 16, initrd_->empty() ? 0 : MODLIST_ADDR);
    put<uint64_t>(info, 24, pc::CMDLINE_ADDR);
    put<uint64_t>(info, 32, rsdp_addr);
    put<uint64_t>(info, 40, MEMMAP_ADDR);
    put<uint32_t>(info, 48, uint32_t(memmap_entries));
    return info;
}

BootEntry PvhImage::load_into(const GuestMemory& mem, uint64_t rsdp_addr) {
    check_fits(mem.below_4g());
    for (const ElfSegment& s : elf_.loads) {
        uint8_t* host = mem.host_ptr(s.paddr, s.memsz);
        if (!host) fail(fmt::format("kernel segment at {:#x} ({} bytes) does not fit in guest RAM", s.paddr, s.memsz));
        std::memcpy(host, file_->data() + s.offset, s.filesz);
        std::memset(host + s.filesz, 0, s.memsz - s.filesz);
    }
    std::vector<E820Entry> map = build_e820(mem);
    if (map.size() > MEMMAP_MAX) map.resize(MEMMAP_MAX);
    std::vector<uint8_t> memmap(map.size() * 24, 0);
    for (size_t i = 0; i < map.size(); ++i) {
        put<uint64_t>(memmap, i * 24, map[i].addr);
        put<uint64_t>(memmap, i * 24 + 8, map[i].size);
        put<uint32_t>(memmap, i * 24 + 16, uint32_t(map[i].type));
    }
    std::vector<uint8_t> cmdline(files_.cmdline.begin(), files_.cmdline.end());
    cmdline.push_back(0);
    bool ok = mem.write(pc::CMDLINE_ADDR, cmdline) && mem.write(MEMMAP_ADDR, memmap) &&
              mem.write(START_INFO_ADDR, start_info(rsdp_addr, map.size()));
    if (!initrd_->empty()) {
        uint64_t at = initrd_addr(mem.below_4g());
        std::vector<uint8_t> module(32, 0);  // hvm_modlist_entry: paddr, size, cmdline_paddr, reserved
        put<uint64_t>(module, 0, at);
        put<uint64_t>(module, 8, initrd_->size());
        ok = ok && mem.write(at, *initrd_) && mem.write(MODLIST_ADDR, module);
    }
    if (!ok) fail("PVH boot information does not fit in guest RAM");
    BootEntry entry;
    entry.mode = BootEntry::Mode::Protected32;
    entry.ip = entry_;
    entry.ebx = uint32_t(START_INFO_ADDR);
    return entry;
}

void PvhImage::publish(FwCfg& fw_cfg, uint64_t ram_below_4g) const {
    fw_cfg.set_u32(fwcfg::KERNEL_ENTRY, entry_);
    fw_cfg.set_u32(fwcfg::KERNEL_ADDR, uint32_t(elf_.low));
    fw_cfg.set_u32(fwcfg::KERNEL_SIZE, uint32_t(elf_.high - elf_.low));
    fw_cfg.set_u32(fwcfg::CMDLINE_SIZE, uint32_t(files_.cmdline.size() + 1));
    fw_cfg.set_string(fwcfg::CMDLINE_DATA, files_.cmdline);
    if (initrd_->empty()) return;
    fw_cfg.set_u32(fwcfg::INITRD_ADDR, uint32_t(initrd_addr(ram_below_4g)));
    fw_cfg.set_u32(fwcfg::INITRD_SIZE, uint32_t(initrd_->size()));
    fw_cfg.set(fwcfg::INITRD_DATA, FwCfgItem::share(initrd_, *initrd_));
}

} // namespace kestrel
