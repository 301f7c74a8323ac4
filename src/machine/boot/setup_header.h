#pragma once
// The Linux/x86 boot protocol setup header of a bzImage
// (Documentation/arch/x86/boot.rst) and the zero-page offsets kestrel uses.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace kestrel {

namespace bootproto {
// Setup header fields: offsets in the image file and in struct boot_params.
constexpr size_t SETUP_SECTS = 0x1f1;
constexpr size_t HDR_START = 0x1f1;
constexpr size_t BOOT_FLAG = 0x1fe;
constexpr size_t JUMP = 0x200;
constexpr size_t HEADER = 0x202;  // "HdrS"
constexpr size_t VERSION = 0x206;
constexpr size_t TYPE_OF_LOADER = 0x210;
constexpr size_t LOADFLAGS = 0x211;
constexpr size_t RAMDISK_IMAGE = 0x218;
constexpr size_t RAMDISK_SIZE = 0x21c;
constexpr size_t HEAP_END_PTR = 0x224;
constexpr size_t CMD_LINE_PTR = 0x228;
constexpr size_t INITRD_ADDR_MAX = 0x22c;
constexpr size_t KERNEL_ALIGNMENT = 0x230;
constexpr size_t RELOCATABLE_KERNEL = 0x234;
constexpr size_t XLOADFLAGS = 0x236;
constexpr size_t CMDLINE_SIZE = 0x238;
constexpr size_t PAYLOAD_OFFSET = 0x248;  // protocol 2.08: the compressed vmlinux
constexpr size_t PAYLOAD_LENGTH = 0x24c;
constexpr size_t PREF_ADDRESS = 0x258;
constexpr size_t INIT_SIZE = 0x260;
constexpr size_t HDR_MAX_END = 0x290;  // struct boot_params keeps hdr below this

// Zero-page (struct boot_params) fields outside the setup header.
constexpr size_t ACPI_RSDP_ADDR = 0x070;
constexpr size_t E820_ENTRIES = 0x1e8;
constexpr size_t E820_TABLE = 0x2d0;
constexpr size_t E820_MAX = 128;
constexpr size_t ZERO_PAGE_SIZE = 0x1000;

constexpr uint32_t HDRS_MAGIC = 0x53726448;  // "HdrS"
constexpr uint16_t MIN_VERSION = 0x0206;
constexpr uint8_t LOADED_HIGH = 1u << 0;
constexpr uint8_t KASLR_FLAG = 1u << 1;  // the kernel was placed at a random address
constexpr uint8_t CAN_USE_HEAP = 1u << 7;
constexpr uint16_t XLF_KERNEL_64 = 1u << 0;
constexpr uint8_t LOADER_UNDEFINED = 0xff;  // type_of_loader
constexpr uint32_t DEFAULT_INITRD_ADDR_MAX = 0x37ffffff;  // protocols < 2.03
constexpr uint64_t ENTRY_64_OFFSET = 0x200;  // startup_64 from the load address
} // namespace bootproto

struct SetupHeader {
    unsigned setup_sects = 0;      // 0 in the file already turned into 4
    uint16_t version = 0;          // 0x020f = protocol 2.15
    uint8_t loadflags = 0;
    uint32_t initrd_addr_max = 0;  // highest address the initrd may occupy
    uint32_t kernel_alignment = 0;
    bool relocatable = false;
    uint16_t xloadflags = 0;
    uint32_t cmdline_size = 0;     // without the terminating NUL
    uint64_t pref_address = 0;
    uint32_t init_size = 0;
    uint32_t payload_offset = 0;   // from the protected-mode part's start; 0: none
    uint32_t payload_length = 0;
    size_t header_end = 0;         // 0x202 + byte at 0x201, capped

    // Bytes of the file before the protected-mode kernel.
    size_t setup_bytes() const { return (size_t(setup_sects) + 1) * 512; }
};

// Parses and checks the header of a bzImage read from `path` (the path only
// names the file in messages). Throws std::runtime_error
// "could not load kernel '<path>': <reason>" when the image is not a
// 64-bit-capable bzImage of boot protocol 2.06 or later.
SetupHeader parse_setup_header(std::span<const uint8_t> image, const std::string& path);

// True if the image carries the "HdrS" boot header (it may still be too old).
bool is_bzimage(std::span<const uint8_t> image);

} // namespace kestrel
