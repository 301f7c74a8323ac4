// The bzImage loader on kernel files of any content: the setup header
// checks, the command line limit, the kernel and initrd placement and the
// zero page, into 128 MiB of guest RAM. It must load or refuse with a
// message (std::runtime_error); whatever it writes lies in guest RAM
// (GuestMemory checks every write) and the entry point is the documented
// one. A kernel with a payload goes through the kernel cache, kept in the
// target's scratch folder.
//
// Input: u8 flags (bit 0: an initrd of the next u16 bytes' count), u16
// command line length, then the kernel file's bytes.
#include "fuzz_support.h"
#include "kvm/pc_memory_map.h"
#include "machine/boot/linux_boot.h"

#include <stdexcept>

using namespace kestrel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::ByteReader in(data, size);
    const uint8_t flags = in.u8();
    const uint16_t initrd_size = in.u16();
    const uint16_t cmdline_size = in.u16();
    const auto kernel = in.rest();

    LinuxBootParams params;
    params.kernel = "bzImage";
    params.initrd = flags & 1 ? "initrd" : "";
    params.cmdline = std::string(cmdline_size % 4096, 'c');
    std::vector<uint8_t> initrd(flags & 1 ? initrd_size : 0, 0x5a);

    static const GuestMemory mem = GuestMemory::create_flat(128ull << 20);  // Debian's kernel needs 80 MiB
    static const bool cache_set = (fuzz::use_scratch_kernel_cache(), true);
    (void)cache_set;
    try {
        LinuxImage image = LinuxImage::from_bytes(params, {kernel.begin(), kernel.end()}, std::move(initrd));
        LinuxBootInfo info = image.load_linux_into(mem, 0xe0000);
        if (info.from_cache)
            FUZZ_CHECK(info.entry_rip < mem.below_4g(), "a cached kernel's entry point outside guest RAM");
        else
            FUZZ_CHECK(info.entry_rip == pc::KERNEL_LOAD_ADDR + bootproto::ENTRY_64_OFFSET, "an unexpected entry point");
        FUZZ_CHECK(info.zero_page == pc::ZERO_PAGE_ADDR, "an unexpected zero page");
    } catch (const std::runtime_error& e) {
        FUZZ_CHECK(*e.what() != '\0', "an error without a message");
    }
    return 0;
}
