#pragma once
// Direct Linux boot (64-bit boot protocol): loads a bzImage, initrd and
// command line into guest RAM and builds the zero page (struct boot_params).
// The vCPU side starts the BSP in long mode at entry_rip with RSI = zero_page.
// With the kernel cache (machine/boot/cached_kernel.h) the entry is the
// decompressed kernel's own 64-bit entry, else the bzImage's.
#include "machine/boot/boot_image.h"
#include "machine/boot/file_bytes.h"
#include "machine/boot/kernel_payload.h"
#include "machine/boot/setup_header.h"
#include "kvm/guest_memory.h"

#include <memory>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

struct LinuxBootInfo {
    uint64_t entry_rip;  // kernel load address + 0x200 (startup_64), or the cached kernel's
    uint64_t zero_page;  // goes in RSI
    bool from_cache = false;
};

struct LinuxBootParams {
    std::string kernel;      // -kernel
    std::string initrd;      // -initrd, empty for none
    std::string cmdline;     // -append
    uint64_t rsdp_addr = 0;  // published in boot_params.acpi_rsdp_addr; 0 = none
    // A VGA card is in 80x25 text mode (kestrel plays its BIOS): the zero
    // page's screen_info says so, as a real-mode boot would have found it,
    // and the kernel's VGA console (tty0) uses it.
    bool vga_text_console = false;
};

struct InitrdPlacement {
    uint64_t addr;
    uint64_t size;
};

class CachedKernel;
struct CachedKernelBoot;

// What load_payloads() put in guest RAM: the part of booting that copies
// megabytes and can run beside the creation of the VM.
struct LoadedPayloads {
    uint64_t entry_rip = 0;
    uint8_t loadflags = 0;  // KASLR_FLAG when the cached kernel was placed at random
    bool from_cache = false;
    InitrdPlacement initrd{0, 0};
};

// The kernel and initrd bytes, read once and checked; load_into() can then
// be repeated on every machine reset without touching the files again.
class LinuxImage final : public BootImage {
public:
    // Reads and checks the files and the command line length. Throws
    // std::runtime_error with a message for the user.
    static LinuxImage open(const LinuxBootParams& params);
    // The same checks on contents already read (`initrd` is used when
    // params.initrd names one). For open() and the loader's fuzz target.
    static LinuxImage from_bytes(const LinuxBootParams& params, std::vector<uint8_t> kernel,
                                 std::vector<uint8_t> initrd);
    // The same with the kernel file already read; reads params.initrd.
    static LinuxImage from_bytes(const LinuxBootParams& params, std::vector<uint8_t> kernel);
    // The same with the kernel file already mapped (FileBytes::open).
    static LinuxImage open_mapped(const LinuxBootParams& params, std::shared_ptr<const FileBytes> kernel);

    // Throws the error load_into() would give if the kernel or the initrd
    // cannot be placed in `ram_below_4g` bytes of RAM below 4 GiB.
    void check_fits(uint64_t ram_below_4g) const override;

    // Writes kernel, initrd, command line and zero page (with the e820 map
    // from build_e820(mem)). Throws like check_fits(). The first call looks
    // the kernel up in the cache (and may start filling it). `memory_is_zero`:
    // guest RAM was never written (the first load), so zero pages can stay.
    // Uses what preload() wrote, if it ran since the last load.
    LinuxBootInfo load_linux_into(const GuestMemory& mem, uint64_t rsdp_addr, bool memory_is_zero = false);
    BootEntry load_into(const GuestMemory& mem, uint64_t rsdp_addr) override;
    // The kernel and initrd (load_payloads()), ahead of load_into().
    void preload(const GuestMemory& mem, bool memory_is_zero) override;
    // load_linux_into() in two steps: the kernel and initrd, then the command
    // line and zero page (which need the ACPI tables' address).
    LoadedPayloads load_payloads(const GuestMemory& mem, bool memory_is_zero);
    LinuxBootInfo write_boot_data(const GuestMemory& mem, uint64_t rsdp_addr, const LoadedPayloads& p) const;
    // QEMU's items for a bzImage: kernel (the protected-mode part), initrd
    // and command line with the addresses kestrel loaded them at.
    void publish(FwCfg& fw_cfg, uint64_t ram_below_4g) const override;

    LinuxImage(LinuxImage&&) noexcept;
    ~LinuxImage() override;
    // The kernel cache's view of this kernel, after the first load_into();
    // nullptr without a cache.
    CachedKernel* cached_kernel() const { return cached_.get(); }

    const SetupHeader& header() const { return header_; }
    // End of the memory the kernel uses before it reads the e820 map
    // (its decompression buffer: runtime start + init_size).
    uint64_t kernel_end() const;
    // Highest page-aligned spot below min(initrd_addr_max + 1, ram_below_4g)
    // and above kernel_end(). Throws "initrd is too large ..." if none.
    InitrdPlacement place_initrd(uint64_t ram_below_4g) const;

private:
    LinuxImage();
    // Checks the kernel's bytes; without the initrd.
    static LinuxImage from_file(const LinuxBootParams& params, std::shared_ptr<const FileBytes> kernel);
    static LinuxImage with_initrd(LinuxImage img, const LinuxBootParams& params);
    std::vector<uint8_t> zero_page(const GuestMemory& mem, InitrdPlacement initrd,
                                   uint64_t rsdp_addr, uint8_t loadflags) const;
    std::optional<CachedKernelBoot> load_cached(const GuestMemory& mem, InitrdPlacement initrd,
                                                bool memory_is_zero);

    LinuxBootParams params_;
    SetupHeader header_;
    // Shared with fw_cfg's kernel and initrd items.
    std::shared_ptr<const FileBytes> kernel_;  // the whole bzImage file
    std::shared_ptr<const FileBytes> initrd_;
    std::optional<KernelPayload> payload_;  // inside *kernel_
    std::unique_ptr<CachedKernel> cached_;
    bool cache_looked_up_ = false;
    std::optional<LoadedPayloads> preloaded_;
};

// Validates the files without guest memory, so main can fail before any
// side effect. Throws like LinuxImage::open.
void check_linux_boot_files(const LinuxBootParams& params);

// One-shot form: LinuxImage::open(params).load_into(mem, params.rsdp_addr).
LinuxBootInfo load_linux(const GuestMemory& mem, const LinuxBootParams& params);

} // namespace kestrel
