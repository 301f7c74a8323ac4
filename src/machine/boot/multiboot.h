#pragma once
// Multiboot v1 direct boot as QEMU's loader does it: the kernel (ELF, or a
// flat image described by the header's a.out kludge fields) at its load
// address, followed by the module table, the command lines, the boot
// loader name and the modules (-initrd "mod1 arg,mod2", ",," for a comma),
// each module page-aligned; the multiboot information at 0x9500 and the
// memory map at 0x9000. The CPU starts in flat 32-bit protected mode at
// the entry with EAX = 0x2BADB002 and EBX = the information's address.
#include "machine/boot/boot_image.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

namespace multiboot {
constexpr uint32_t HEADER_MAGIC = 0x1badb002;
constexpr uint32_t BOOT_MAGIC = 0x2badb002;  // in EAX at the entry
constexpr size_t SEARCH_LIMIT = 8192;        // the header lies in the first 8 KiB
constexpr uint32_t FLAG_VIDEO_MODE = 1u << 2;
constexpr uint32_t FLAG_AOUT_KLUDGE = 1u << 16;
constexpr uint64_t MMAP_ADDR = 0x9000;       // QEMU's ADDR_E820_MAP
constexpr uint64_t INFO_ADDR = 0x9500;       // QEMU's ADDR_MBI
constexpr size_t INFO_SIZE = 88;
constexpr size_t MMAP_MAX_BYTES = INFO_ADDR - MMAP_ADDR;
constexpr uint32_t BOOT_DEVICE = 0x8000ffff;
constexpr char LOADER_NAME[] = "qemu";  // what QEMU's loader calls itself
} // namespace multiboot

struct MultibootHeader {
    size_t offset;  // in the file
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

// The first header with a valid checksum in the first 8 KiB, 4-aligned;
// nullopt if there is none (then the file is not a multiboot kernel).
std::optional<MultibootHeader> find_multiboot_header(std::span<const uint8_t> file);

// The -initrd module list: entries split at ',' (",," is a comma); each is
// "path[ args]", its whole text the module's command line.
std::vector<std::string> split_module_list(const std::string& list);

class MultibootImage final : public BootImage {
public:
    // Builds the boot image from the kernel file's bytes and the module
    // files. Throws std::runtime_error with QEMU's messages ("Cannot load
    // x86-64 image, give a 32bit one.", "Error while loading elf kernel",
    // "invalid load_addr address", "Failed to open file 'X'", ...).
    // Kernels and modules that do not fit in `ram_below_4g` are refused
    // before their bytes are read.
    static std::unique_ptr<MultibootImage> build(const BootFiles& files, std::vector<uint8_t> kernel,
                                                 const MultibootHeader& header, uint64_t ram_below_4g);

    void check_fits(uint64_t ram_below_4g) const override;
    BootEntry load_into(const GuestMemory& mem, uint64_t rsdp_addr) override;
    void publish(FwCfg& fw_cfg, uint64_t ram_below_4g) const override;

    uint32_t load_addr() const { return load_addr_; }
    uint32_t entry() const { return entry_; }
    // Kernel, module table, command lines, loader name and modules, as
    // they go to RAM at load_addr().
    const std::vector<uint8_t>& image() const { return *image_; }
    // The information structure without mem_lower/mem_upper and the memory
    // map, which load_into() fills from the machine's RAM.
    const std::vector<uint8_t>& info() const { return info_; }

private:
    MultibootImage() = default;
    std::vector<uint8_t> memory_map(const GuestMemory& mem, std::vector<uint8_t>& info) const;

    std::string kernel_path_;
    uint32_t load_addr_ = 0;
    uint32_t entry_ = 0;
    std::shared_ptr<const std::vector<uint8_t>> image_;
    std::vector<uint8_t> info_;
};

} // namespace kestrel
