#include "machine/boot/linux_boot.h"

#include "machine/boot/cached_kernel.h"
#include "devices/fw_cfg/fw_cfg.h"
#include "machine/boot/e820.h"
#include "machine/boot/file_bytes.h"
#include "kvm/pc_memory_map.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {
namespace {

using namespace bootproto;

constexpr uint64_t PAGE = 0x1000;
// Top of setup code + heap as a real-mode loader would give it (0x10000 -
// 0x200); the 64-bit entry does not use the heap, the value only has to be sane.
constexpr uint16_t HEAP_END = 0xfe00;

uint64_t align_up(uint64_t v, uint64_t a) { return a ? (v + a - 1) / a * a : v; }
uint64_t align_down(uint64_t v, uint64_t a) { return v / a * a; }

template <typename T> void put(std::vector<uint8_t>& page, size_t off, T v) {
    std::memcpy(page.data() + off, &v, sizeof v);
}

std::string mib(uint64_t bytes) { return fmt::format("{} MiB", (bytes + (1 << 20) - 1) >> 20); }

void write_e820(std::vector<uint8_t>& page, const std::vector<E820Entry>& map) {
    if (map.size() > E820_MAX)
        throw std::runtime_error(fmt::format("too many e820 entries ({})", map.size()));
    page[E820_ENTRIES] = uint8_t(map.size());
    for (size_t i = 0; i < map.size(); i++) {
        size_t off = E820_TABLE + i * 20;
        put(page, off, map[i].addr);
        put(page, off + 8, map[i].size);
        put(page, off + 16, uint32_t(map[i].type));
    }
}

void write_or_throw(const GuestMemory& mem, uint64_t gpa, std::span<const uint8_t> bytes,
                    const char* what) {
    if (!mem.write(gpa, bytes))
        throw std::runtime_error(
            fmt::format("{} at {:#x} ({} bytes) does not fit in guest RAM", what, gpa, bytes.size()));
}

} // namespace

LinuxImage::LinuxImage()
    : kernel_(std::make_shared<const FileBytes>()), initrd_(std::make_shared<const FileBytes>()) {}
LinuxImage::LinuxImage(LinuxImage&&) noexcept = default;
LinuxImage::~LinuxImage() = default;

LinuxImage LinuxImage::open(const LinuxBootParams& params) {
    std::shared_ptr<const FileBytes> kernel;
    if (int err = FileBytes::open(params.kernel, kernel))
        throw std::runtime_error(
            fmt::format("could not load kernel '{}': {}", params.kernel, std::strerror(err)));
    return open_mapped(params, std::move(kernel));
}

LinuxImage LinuxImage::from_bytes(const LinuxBootParams& params, std::vector<uint8_t> kernel) {
    return with_initrd(from_file(params, std::make_shared<const FileBytes>(std::move(kernel))), params);
}

LinuxImage LinuxImage::open_mapped(const LinuxBootParams& params, std::shared_ptr<const FileBytes> kernel) {
    return with_initrd(from_file(params, std::move(kernel)), params);
}

LinuxImage LinuxImage::with_initrd(LinuxImage img, const LinuxBootParams& params) {
    if (params.initrd.empty()) return img;
    if (int err = FileBytes::open(params.initrd, img.initrd_))
        throw std::runtime_error(fmt::format("error reading initrd {}: {}", params.initrd, std::strerror(err)));
    return img;
}

LinuxImage LinuxImage::from_bytes(const LinuxBootParams& params, std::vector<uint8_t> kernel,
                                  std::vector<uint8_t> initrd) {
    LinuxImage img = from_file(params, std::make_shared<const FileBytes>(std::move(kernel)));
    if (!params.initrd.empty()) img.initrd_ = std::make_shared<const FileBytes>(std::move(initrd));
    return img;
}

LinuxImage LinuxImage::from_file(const LinuxBootParams& params, std::shared_ptr<const FileBytes> kernel) {
    LinuxImage img;
    img.params_ = params;
    img.header_ = parse_setup_header(*kernel, params.kernel);
    img.kernel_ = std::move(kernel);
    img.payload_ = find_payload(*img.kernel_, img.header_, params.kernel);
    uint64_t limit = std::min<uint64_t>(img.header_.cmdline_size, pc::CMDLINE_MAX - 1);
    if (params.cmdline.size() > limit)
        throw std::runtime_error(fmt::format(
            "kernel command line is too long: {} bytes, kernel '{}' accepts at most {}",
            params.cmdline.size(), params.kernel, limit));
    return img;
}

uint64_t LinuxImage::kernel_end() const {
    const uint64_t loaded_end = pc::KERNEL_LOAD_ADDR + (kernel_->size() - header_.setup_bytes());
    if (header_.init_size == 0) return loaded_end;
    // Where the kernel decompresses itself: the load address rounded up to
    // kernel_alignment if relocatable, but never below pref_address.
    uint64_t start = header_.relocatable
                         ? align_up(pc::KERNEL_LOAD_ADDR, header_.kernel_alignment)
                         : header_.pref_address;
    start = std::max(start, header_.pref_address);
    return std::max(loaded_end, start + header_.init_size);
}

InitrdPlacement LinuxImage::place_initrd(uint64_t ram_below_4g) const {
    if (params_.initrd.empty()) return {0, 0};
    const uint64_t limit = std::min<uint64_t>(uint64_t(header_.initrd_addr_max) + 1, ram_below_4g);
    const uint64_t size = initrd_->size();
    const uint64_t low = align_up(kernel_end(), PAGE);
    const uint64_t max = limit > low ? limit - low : 0;
    if (size > max)
        throw std::runtime_error(fmt::format(
            "initrd is too large, cannot support (max: {}, need {}): initial ram disk '{}' must "
            "fit between the kernel's end at {:#x} and {:#x}",
            max, size, params_.initrd, low, limit));
    return {align_down(limit - size, PAGE), size};
}

void LinuxImage::check_fits(uint64_t ram_below_4g) const {
    if (kernel_end() > ram_below_4g)
        throw std::runtime_error(fmt::format(
            "could not load kernel '{}': it needs guest RAM up to {:#x} ({}) to start, but "
            "there is only {} below 4 GiB",
            params_.kernel, kernel_end(), mib(kernel_end()), mib(ram_below_4g)));
    place_initrd(ram_below_4g);
}

// struct screen_info at the start of boot_params, as the kernel's
// real-mode setup fills it for a colour VGA in mode 3: 80x25, 16-line
// characters, 256 KiB of EGA memory (ega_bx), cursor at the top left.
static void write_vga_screen_info(std::vector<uint8_t>& page) {
    constexpr size_t ORIG_VIDEO_MODE = 0x06, ORIG_VIDEO_COLS = 0x07, ORIG_VIDEO_EGA_BX = 0x0a;
    constexpr size_t ORIG_VIDEO_LINES = 0x0e, ORIG_VIDEO_IS_VGA = 0x0f, ORIG_VIDEO_POINTS = 0x10;
    page[ORIG_VIDEO_MODE] = 3;
    page[ORIG_VIDEO_COLS] = 80;
    put(page, ORIG_VIDEO_EGA_BX, uint16_t(0x0003));
    page[ORIG_VIDEO_LINES] = 25;
    page[ORIG_VIDEO_IS_VGA] = 1;
    put(page, ORIG_VIDEO_POINTS, uint16_t(16));
}

std::vector<uint8_t> LinuxImage::zero_page(const GuestMemory& mem, InitrdPlacement initrd,
                                           uint64_t rsdp_addr, uint8_t loadflags) const {
    std::vector<uint8_t> page(ZERO_PAGE_SIZE, 0);
    std::copy(kernel_->begin() + HDR_START, kernel_->begin() + header_.header_end,
              page.begin() + HDR_START);
    page[TYPE_OF_LOADER] = LOADER_UNDEFINED;
    page[LOADFLAGS] = uint8_t((header_.loadflags & ~KASLR_FLAG) | LOADED_HIGH | CAN_USE_HEAP | loadflags);
    put(page, HEAP_END_PTR, HEAP_END);
    put(page, CMD_LINE_PTR, uint32_t(pc::CMDLINE_ADDR));
    put(page, RAMDISK_IMAGE, uint32_t(initrd.addr));
    put(page, RAMDISK_SIZE, uint32_t(initrd.size));
    put(page, ACPI_RSDP_ADDR, rsdp_addr);
    write_e820(page, build_e820(mem));
    if (params_.vga_text_console) write_vga_screen_info(page);
    return page;
}

std::optional<CachedKernelBoot> LinuxImage::load_cached(const GuestMemory& mem, InitrdPlacement initrd,
                                                        bool memory_is_zero) {
    if (!cache_looked_up_ && payload_)
        cached_ = CachedKernel::for_image(kernel_, header_, *payload_, params_.kernel);
    cache_looked_up_ = true;
    if (!cached_) return std::nullopt;
    return cached_->load(mem, memory_is_zero, params_.cmdline, initrd.addr, initrd.addr + initrd.size);
}

LoadedPayloads LinuxImage::load_payloads(const GuestMemory& mem, bool memory_is_zero) {
    // kestrel keeps no copy of the files: one rewritten in place since it
    // started cannot be loaded again (QEMU would load the old bytes).
    for (const auto& [file, path] : {std::pair{kernel_.get(), &params_.kernel}, std::pair{initrd_.get(), &params_.initrd}})
        if (file->changed_on_disk())
            throw std::runtime_error(fmt::format("'{}' changed since kestrel started: cannot load it again", *path));
    check_fits(mem.below_4g());
    LoadedPayloads p;
    p.initrd = place_initrd(mem.below_4g());
    if (p.initrd.size) write_or_throw(mem, p.initrd.addr, *initrd_, "initrd");
    p.entry_rip = pc::KERNEL_LOAD_ADDR + ENTRY_64_OFFSET;
    if (auto cached = load_cached(mem, p.initrd, memory_is_zero)) {
        p.entry_rip = cached->entry_rip;
        p.from_cache = true;
        if (cached->randomized) p.loadflags |= KASLR_FLAG;
    } else {
        std::span<const uint8_t> pm(kernel_->data() + header_.setup_bytes(),
                                    kernel_->size() - header_.setup_bytes());
        write_or_throw(mem, pc::KERNEL_LOAD_ADDR, pm, "kernel");
    }
    // Now in guest RAM: out of kestrel's memory until needed again.
    kernel_->release_pages();
    initrd_->release_pages();
    return p;
}

LinuxBootInfo LinuxImage::write_boot_data(const GuestMemory& mem, uint64_t rsdp_addr,
                                          const LoadedPayloads& p) const {
    std::vector<uint8_t> cmdline(params_.cmdline.begin(), params_.cmdline.end());
    cmdline.push_back(0);
    write_or_throw(mem, pc::CMDLINE_ADDR, cmdline, "kernel command line");
    write_or_throw(mem, pc::ZERO_PAGE_ADDR, zero_page(mem, p.initrd, rsdp_addr, p.loadflags), "zero page");
    return {p.entry_rip, pc::ZERO_PAGE_ADDR, p.from_cache};
}

void LinuxImage::preload(const GuestMemory& mem, bool memory_is_zero) {
    preloaded_ = load_payloads(mem, memory_is_zero);
}

LinuxBootInfo LinuxImage::load_linux_into(const GuestMemory& mem, uint64_t rsdp_addr, bool memory_is_zero) {
    LoadedPayloads payloads = preloaded_ ? *preloaded_ : load_payloads(mem, memory_is_zero);
    preloaded_.reset();
    return write_boot_data(mem, rsdp_addr, payloads);
}

BootEntry LinuxImage::load_into(const GuestMemory& mem, uint64_t rsdp_addr) {
    LinuxBootInfo info = load_linux_into(mem, rsdp_addr);
    BootEntry entry;
    entry.mode = BootEntry::Mode::Long64;
    entry.ip = info.entry_rip;
    entry.rsi = info.zero_page;
    return entry;
}

void LinuxImage::publish(FwCfg& fw_cfg, uint64_t ram_below_4g) const {
    size_t setup = header_.setup_bytes();
    fw_cfg.set_u32(fwcfg::KERNEL_ADDR, uint32_t(pc::KERNEL_LOAD_ADDR));
    fw_cfg.set_u32(fwcfg::KERNEL_SIZE, uint32_t(kernel_->size() - setup));
    fw_cfg.set(fwcfg::KERNEL_DATA, FwCfgItem::share(kernel_, std::span<const uint8_t>(*kernel_).subspan(setup)));
    fw_cfg.set_u32(fwcfg::CMDLINE_ADDR, uint32_t(pc::CMDLINE_ADDR));
    fw_cfg.set_u32(fwcfg::CMDLINE_SIZE, uint32_t(params_.cmdline.size() + 1));
    fw_cfg.set_string(fwcfg::CMDLINE_DATA, params_.cmdline);
    if (initrd_->empty()) return;
    // Where load_into() puts it in this machine's RAM.
    InitrdPlacement initrd = place_initrd(ram_below_4g);
    fw_cfg.set_u32(fwcfg::INITRD_ADDR, uint32_t(initrd.addr));
    fw_cfg.set_u32(fwcfg::INITRD_SIZE, uint32_t(initrd_->size()));
    fw_cfg.set(fwcfg::INITRD_DATA, FwCfgItem::share(initrd_, *initrd_));
}

void check_linux_boot_files(const LinuxBootParams& params) { LinuxImage::open(params); }

LinuxBootInfo load_linux(const GuestMemory& mem, const LinuxBootParams& params) {
    return LinuxImage::open(params).load_linux_into(mem, params.rsdp_addr);
}

} // namespace kestrel
