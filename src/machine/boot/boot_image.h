#pragma once
// A -kernel image of any format kestrel boots directly, read and checked
// once before the machine exists (so every error comes before any side
// effect) and loaded again on every reset without touching the files:
// a Linux bzImage (64-bit boot protocol), a multiboot v1 kernel (ELF or
// a.out kludge) with its modules, or an ELF kernel with a PVH entry note.
#include <cstdint>
#include <memory>
#include <string>

namespace kestrel {

class FwCfg;
class GuestMemory;

struct BootFiles {
    std::string kernel;   // -kernel
    std::string initrd;   // -initrd: the initrd, or multiboot's "mod arg,mod2" list
    std::string cmdline;  // -append
    bool vga_text_console = false;  // a VGA card's text mode is set up (Linux: screen_info)
};

// How the boot processor starts.
struct BootEntry {
    enum class Mode { Long64, Protected32 };
    Mode mode = Mode::Long64;
    uint64_t ip = 0;
    uint64_t rsi = 0;  // Long64: boot_params (Linux's zero page)
    uint32_t eax = 0;  // Protected32: the multiboot magic
    uint32_t ebx = 0;  // Protected32: multiboot info or hvm_start_info
};

class BootImage {
public:
    virtual ~BootImage() = default;

    // Reads the kernel and what goes with it, recognises its format as
    // QEMU does (bzImage, then a multiboot header in the first 8 KiB, then
    // ELF with a PVH note) and checks it against `ram_below_4g` bytes of
    // RAM below 4 GiB. Throws std::runtime_error with QEMU's message where
    // QEMU has one.
    static std::unique_ptr<BootImage> open(const BootFiles& files, uint64_t ram_below_4g);

    // Throws what load_into() would if the image does not fit in
    // `ram_below_4g` bytes of RAM below 4 GiB.
    virtual void check_fits(uint64_t ram_below_4g) const = 0;
    // Writes the image and its boot information into RAM; `rsdp_addr` is
    // where the ACPI tables start (0: none).
    virtual BootEntry load_into(const GuestMemory& mem, uint64_t rsdp_addr) = 0;
    // Writes what takes long to copy (Linux: kernel and initrd) ahead of
    // load_into(), which then writes only the rest. Runs on a thread while
    // the VM is created; `memory_is_zero`: RAM was never written.
    virtual void preload(const GuestMemory& mem, bool memory_is_zero) {
        (void)mem;
        (void)memory_is_zero;
    }
    // The kernel, initrd and command line items of fw_cfg, as QEMU's
    // loader of the same format sets them, for a machine with
    // `ram_below_4g` bytes of RAM below 4 GiB.
    virtual void publish(FwCfg& fw_cfg, uint64_t ram_below_4g) const = 0;
};

} // namespace kestrel
