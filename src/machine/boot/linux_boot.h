#pragma once
// Direct Linux boot (64-bit boot protocol): loads a bzImage, initrd and
// command line into guest RAM and builds the zero page (struct boot_params).
// The vCPU side starts the BSP in long mode at entry_rip with RSI = zero_page.
#include "machine/boot/setup_header.h"
#include "kvm/guest_memory.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {

struct LinuxBootInfo {
    uint64_t entry_rip;  // kernel load address + 0x200 (startup_64)
    uint64_t zero_page;  // goes in RSI
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

// The kernel and initrd bytes, read once and checked; load_into() can then
// be repeated on every machine reset without touching the files again.
class LinuxImage {
public:
    // Reads and checks the files and the command line length. Throws
    // std::runtime_error with a message for the user.
    static LinuxImage open(const LinuxBootParams& params);

    // Throws the error load_into() would give if the kernel or the initrd
    // cannot be placed in `ram_below_4g` bytes of RAM below 4 GiB.
    void check_fits(uint64_t ram_below_4g) const;

    // Writes kernel, initrd, command line and zero page (with the e820 map
    // from build_e820(mem)). Throws like check_fits().
    LinuxBootInfo load_into(const GuestMemory& mem, uint64_t rsdp_addr) const;

    const SetupHeader& header() const { return header_; }
    // End of the memory the kernel uses before it reads the e820 map
    // (its decompression buffer: runtime start + init_size).
    uint64_t kernel_end() const;
    // Highest page-aligned spot below min(initrd_addr_max + 1, ram_below_4g)
    // and above kernel_end(). Throws "initrd is too large ..." if none.
    InitrdPlacement place_initrd(uint64_t ram_below_4g) const;

private:
    LinuxImage() = default;
    std::vector<uint8_t> zero_page(const GuestMemory& mem, InitrdPlacement initrd,
                                   uint64_t rsdp_addr) const;

    LinuxBootParams params_;
    SetupHeader header_;
    std::vector<uint8_t> kernel_;  // the whole bzImage file
    std::vector<uint8_t> initrd_;
};

// Validates the files without guest memory, so main can fail before any
// side effect. Throws like LinuxImage::open.
void check_linux_boot_files(const LinuxBootParams& params);

// One-shot form: LinuxImage::open(params).load_into(mem, params.rsdp_addr).
LinuxBootInfo load_linux(const GuestMemory& mem, const LinuxBootParams& params);

} // namespace kestrel
