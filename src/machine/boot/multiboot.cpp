#include "machine/boot/multiboot.h"

#include "devices/fw_cfg/fw_cfg.h"
#include "kvm/guest_memory.h"
#include "machine/boot/e820.h"
#include "machine/boot/elf_image.h"
#include "machine/boot/file_bytes.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/stat.h>

namespace kestrel {
namespace {

using namespace multiboot;

constexpr uint64_t PAGE = 0x1000;
constexpr size_t MODULE_ENTRY_SIZE = 16;  // start, end, cmdline, reserved

// Offsets in the information structure.
constexpr size_t MBI_FLAGS = 0, MBI_MEM_LOWER = 4, MBI_MEM_UPPER = 8, MBI_BOOT_DEVICE = 12, MBI_CMDLINE = 16,
                 MBI_MODS_COUNT = 20, MBI_MODS_ADDR = 24, MBI_MMAP_LENGTH = 44, MBI_MMAP_ADDR = 48,
                 MBI_LOADER_NAME = 64;
constexpr uint32_t INFO_FLAGS = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9);

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

uint32_t get32(std::span<const uint8_t> b, size_t off) {
    uint32_t v;
    std::memcpy(&v, b.data() + off, 4);
    return v;
}
void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) { std::memcpy(b.data() + off, &v, 4); }
void put64(std::vector<uint8_t>& b, size_t off, uint64_t v) { std::memcpy(b.data() + off, &v, 8); }
uint64_t page_align(uint64_t v) { return (v + PAGE - 1) & ~(PAGE - 1); }

// The kernel part of the image: its bytes as they go to RAM from the load
// address (bss zeroed), and where it starts.
struct KernelPart {
    uint32_t load_addr;
    uint32_t entry;
    std::vector<uint8_t> bytes;
};

KernelPart load_elf_kernel(std::span<const uint8_t> file, uint64_t ram_below_4g) {
    if (file.size() >= 20 && (file[18] | file[19] << 8) == ELF_MACHINE_X86_64)
        fail("Cannot load x86-64 image, give a 32bit one.");
    ElfImage elf = parse_elf(file);
    if (elf.high > std::numeric_limits<uint32_t>::max()) fail("kernel does not fit in address space");
    if (elf.high > ram_below_4g)
        fail(fmt::format("multiboot kernel at {:#x}-{:#x} does not fit in guest RAM ({:#x} bytes below 4 GiB)",
                         elf.low, elf.high, ram_below_4g));
    KernelPart k{uint32_t(elf.low), uint32_t(elf.entry), std::vector<uint8_t>(elf.high - elf.low, 0)};
    copy_elf_loads(elf, file, k.bytes);
    return k;
}

// The a.out kludge: the header says where the file's text goes.
KernelPart load_flat_kernel(std::span<const uint8_t> file, const MultibootHeader& h, uint64_t ram_below_4g) {
    if (h.header_addr < h.load_addr) fail("invalid load_addr address");
    if (h.header_addr - h.load_addr > h.offset) fail("invalid header_addr address");
    uint64_t text_offset = h.offset - (h.header_addr - h.load_addr);
    uint64_t load_size;
    if (h.load_end_addr) {
        if (h.load_end_addr < h.load_addr) fail("invalid load_end_addr address");
        load_size = h.load_end_addr - h.load_addr;
    } else {
        if (file.size() < text_offset) fail("invalid kernel_file_size");
        load_size = file.size() - text_offset;
    }
    if (load_size > std::numeric_limits<uint32_t>::max() - h.load_addr) fail("kernel does not fit in address space");
    uint64_t kernel_size = load_size;
    if (h.bss_end_addr) {
        if (h.bss_end_addr < h.load_addr + load_size) fail("invalid bss_end_addr address");
        kernel_size = h.bss_end_addr - h.load_addr;
    }
    if (h.load_addr + kernel_size > ram_below_4g)
        fail(fmt::format("multiboot kernel at {:#x}-{:#x} does not fit in guest RAM ({:#x} bytes below 4 GiB)",
                         h.load_addr, h.load_addr + kernel_size, ram_below_4g));
    if (text_offset + load_size > file.size()) fail("fread() failed");
    KernelPart k{h.load_addr, h.entry_addr, std::vector<uint8_t>(kernel_size, 0)};
    if (load_size) std::memcpy(k.bytes.data(), file.data() + text_offset, load_size);  // (empty: no data())
    return k;
}

struct Module {
    std::string cmdline;  // "path args"
    std::string path;
    uint64_t size;
};

std::vector<Module> stat_modules(const std::string& list) {
    std::vector<Module> modules;
    for (std::string& text : split_module_list(list)) {
        std::string path = text.substr(0, text.find(' '));
        struct stat st {};
        if (stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) fail("Failed to open file '" + path + "'");
        modules.push_back({std::move(text), std::move(path), uint64_t(st.st_size)});
    }
    return modules;
}

} // namespace

std::optional<MultibootHeader> find_multiboot_header(std::span<const uint8_t> file) {
    size_t limit = std::min(file.size(), SEARCH_LIMIT);
    for (size_t i = 0; i + 32 <= limit; i += 4) {
        if (get32(file, i) != HEADER_MAGIC) continue;
        uint32_t flags = get32(file, i + 4);
        if (uint32_t(HEADER_MAGIC + flags + get32(file, i + 8)) != 0) continue;
        return MultibootHeader{i, flags, get32(file, i + 12), get32(file, i + 16), get32(file, i + 20),
                               get32(file, i + 24), get32(file, i + 28)};
    }
    return std::nullopt;
}

std::vector<std::string> split_module_list(const std::string& list) {
    std::vector<std::string> out(1);
    for (size_t i = 0; i < list.size(); ++i) {
        if (list[i] != ',') {
            out.back() += list[i];
        } else if (i + 1 < list.size() && list[i + 1] == ',') {
            out.back() += ',';
            ++i;
        } else {
            out.emplace_back();
        }
    }
    return out;
}

std::unique_ptr<MultibootImage> MultibootImage::build(const BootFiles& files, std::vector<uint8_t> kernel,
                                                      const MultibootHeader& header, uint64_t ram_below_4g) {
    if (header.flags & FLAG_VIDEO_MODE) spdlog::warn("multiboot knows VBE. we don't.");
    KernelPart k = header.flags & FLAG_AOUT_KLUDGE ? load_flat_kernel(kernel, header, ram_below_4g)
                                                   : load_elf_kernel(kernel, ram_below_4g);
    kernel.clear();
    kernel.shrink_to_fit();
    std::vector<Module> modules = files.initrd.empty() ? std::vector<Module>{} : stat_modules(files.initrd);

    // QEMU's layout: the kernel, page-aligned; the module table, the
    // command lines and the loader name, page-aligned; each module
    // page-aligned after that.
    uint64_t table = page_align(k.bytes.size());
    uint64_t cmdline_len = files.kernel.size() + 1 + files.cmdline.size() + 1 +
                           (files.initrd.empty() ? 0 : files.initrd.size() + 1);
    uint64_t cmdlines = table + modules.size() * MODULE_ENTRY_SIZE;
    uint64_t loader_name = cmdlines + cmdline_len;
    uint64_t end = page_align(loader_name + sizeof LOADER_NAME);
    std::vector<uint64_t> module_at;
    for (const Module& m : modules) {
        module_at.push_back(end);
        end = page_align(end + m.size);
    }
    if (k.load_addr + end > ram_below_4g)
        fail(fmt::format("multiboot modules do not fit in guest RAM: kernel and modules need {:#x}-{:#x}, RAM "
                         "below 4 GiB ends at {:#x}",
                         k.load_addr, k.load_addr + end, ram_below_4g));

    auto img = std::unique_ptr<MultibootImage>(new MultibootImage());
    img->kernel_path_ = files.kernel;
    img->load_addr_ = k.load_addr;
    img->entry_ = k.entry;
    std::vector<uint8_t> image = std::move(k.bytes);
    image.resize(end, 0);
    auto phys = [&](uint64_t offset) { return uint32_t(k.load_addr + offset); };
    uint64_t next_cmdline = cmdlines;
    auto add_string = [&](const std::string& text) {
        std::memcpy(image.data() + next_cmdline, text.c_str(), text.size() + 1);
        uint32_t at = phys(next_cmdline);
        next_cmdline += text.size() + 1;
        return at;
    };
    for (size_t i = 0; i < modules.size(); ++i) {
        uint32_t cmdline = add_string(modules[i].cmdline);
        std::vector<uint8_t> bytes;
        if (read_file_bytes(modules[i].path, bytes) || bytes.size() != modules[i].size)
            fail("Failed to open file '" + modules[i].path + "'");
        std::copy(bytes.begin(), bytes.end(), image.begin() + module_at[i]);
        size_t entry = table + i * MODULE_ENTRY_SIZE;
        put32(image, entry, phys(module_at[i]));
        put32(image, entry + 4, phys(module_at[i] + bytes.size()));
        put32(image, entry + 8, cmdline);
    }
    uint32_t kernel_cmdline = add_string(files.kernel + " " + files.cmdline);
    std::memcpy(image.data() + loader_name, LOADER_NAME, sizeof LOADER_NAME);

    img->info_.assign(INFO_SIZE, 0);
    put32(img->info_, MBI_FLAGS, INFO_FLAGS);
    put32(img->info_, MBI_BOOT_DEVICE, BOOT_DEVICE);
    put32(img->info_, MBI_CMDLINE, kernel_cmdline);
    put32(img->info_, MBI_MODS_COUNT, uint32_t(modules.size()));
    put32(img->info_, MBI_MODS_ADDR, phys(table));
    put32(img->info_, MBI_MMAP_ADDR, uint32_t(MMAP_ADDR));
    put32(img->info_, MBI_LOADER_NAME, phys(loader_name));
    img->image_ = std::make_shared<std::vector<uint8_t>>(std::move(image));
    return img;
}

void MultibootImage::check_fits(uint64_t ram_below_4g) const {
    if (load_addr_ + image_->size() > ram_below_4g)
        fail(fmt::format("multiboot modules do not fit in guest RAM: kernel and modules need {:#x}-{:#x}, RAM "
                         "below 4 GiB ends at {:#x}",
                         load_addr_, load_addr_ + image_->size(), ram_below_4g));
}

// The BIOS e820 map as multiboot entries {u32 size = 20, u64 base, u64
// length, u32 type}; mem_lower/mem_upper as QEMU's option ROM derives them
// (KiB of conventional memory, KiB contiguous from 1 MiB).
std::vector<uint8_t> MultibootImage::memory_map(const GuestMemory& mem, std::vector<uint8_t>& info) const {
    std::vector<uint8_t> map;
    uint64_t lower = 0, upper_end = 0x100000;
    for (const E820Entry& e : build_e820(mem)) {
        if (map.size() + 24 > MMAP_MAX_BYTES) break;
        size_t at = map.size();
        map.resize(at + 24);
        put32(map, at, 20);
        put64(map, at + 4, e.addr);
        put64(map, at + 12, e.size);
        put32(map, at + 20, uint32_t(e.type));
        if (e.type != E820Type::Ram) continue;
        if (e.addr == 0) lower = e.size;
        if (e.addr <= upper_end && e.addr + e.size > upper_end) upper_end = e.addr + e.size;
    }
    put32(info, MBI_MEM_LOWER, uint32_t(lower >> 10));
    put32(info, MBI_MEM_UPPER, uint32_t(std::min<uint64_t>(upper_end, 1ull << 32) - 0x100000) >> 10);
    put32(info, MBI_MMAP_LENGTH, uint32_t(map.size()));
    return map;
}

BootEntry MultibootImage::load_into(const GuestMemory& mem, uint64_t) {
    check_fits(mem.below_4g());
    std::vector<uint8_t> info = info_;
    std::vector<uint8_t> map = memory_map(mem, info);
    // As QEMU's option ROM: the information first, then the kernel (which
    // wins where they overlap).
    if (!mem.write(INFO_ADDR, info) || !mem.write(MMAP_ADDR, map) || !mem.write(load_addr_, *image_))
        fail("multiboot image does not fit in guest RAM");
    BootEntry entry;
    entry.mode = BootEntry::Mode::Protected32;
    entry.ip = entry_;
    entry.eax = BOOT_MAGIC;
    entry.ebx = uint32_t(INFO_ADDR);
    return entry;
}

void MultibootImage::publish(FwCfg& fw_cfg, uint64_t) const {
    fw_cfg.set_u32(fwcfg::KERNEL_ENTRY, entry_);
    fw_cfg.set_u32(fwcfg::KERNEL_ADDR, load_addr_);
    fw_cfg.set_u32(fwcfg::KERNEL_SIZE, uint32_t(image_->size()));
    fw_cfg.set(fwcfg::KERNEL_DATA, FwCfgItem::share(image_, *image_));
    fw_cfg.set_u32(fwcfg::INITRD_ADDR, uint32_t(INFO_ADDR));
    fw_cfg.set_u32(fwcfg::INITRD_SIZE, uint32_t(INFO_SIZE));
    fw_cfg.set_bytes(fwcfg::INITRD_DATA, info_);
}

} // namespace kestrel
