#pragma once
// PVH direct boot: an uncompressed ELF kernel (Linux's vmlinux) whose Xen
// note XEN_ELFNOTE_PHYS32_ENTRY names a 32-bit entry point. Its segments go
// to their physical addresses; the CPU starts there in flat 32-bit
// protected mode, paging off, with EBX = an hvm_start_info (version 1)
// holding the command line, the initrd as the first module, the RSDP and
// the e820 memory map.
#include "machine/boot/boot_image.h"
#include "machine/boot/elf_image.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace kestrel {

namespace pvh {
constexpr uint32_t XEN_ELFNOTE_PHYS32_ENTRY = 18;
constexpr uint32_t START_MAGIC = 0x336ec578;  // "xEn3" with the top bit set
constexpr uint64_t START_INFO_ADDR = 0x6000;  // hvm_start_info (56 bytes)
constexpr uint64_t MODLIST_ADDR = 0x6040;     // one hvm_modlist_entry (32 bytes)
constexpr uint64_t MEMMAP_ADDR = 0x6080;      // hvm_memmap_table_entry[] (24 bytes each)
constexpr size_t MEMMAP_MAX = 128;
} // namespace pvh

// The PVH entry from the ELF's notes; nullopt if it has none.
std::optional<uint32_t> pvh_entry(const ElfImage& elf);

class PvhImage final : public BootImage {
public:
    // Throws std::runtime_error: "Error loading uncompressed kernel without
    // PVH ELF Note", "Error while loading elf kernel" (malformed),
    // "error reading initrd ...", or when kernel or initrd do not fit in
    // `ram_below_4g`.
    static std::unique_ptr<PvhImage> build(const BootFiles& files, std::vector<uint8_t> kernel,
                                           uint64_t ram_below_4g);

    void check_fits(uint64_t ram_below_4g) const override;
    BootEntry load_into(const GuestMemory& mem, uint64_t rsdp_addr) override;
    void publish(FwCfg& fw_cfg, uint64_t ram_below_4g) const override;

    uint32_t entry() const { return entry_; }
    // Page-aligned, as high below 4 GiB as RAM allows.
    uint64_t initrd_addr(uint64_t ram_below_4g) const;

private:
    PvhImage() = default;
    std::vector<uint8_t> start_info(uint64_t rsdp_addr, size_t memmap_entries) const;

    BootFiles files_;
    std::shared_ptr<const std::vector<uint8_t>> file_;  // the ELF; its loads point into it
    ElfImage elf_;
    uint32_t entry_ = 0;
    std::shared_ptr<const std::vector<uint8_t>> initrd_;
};

} // namespace kestrel
