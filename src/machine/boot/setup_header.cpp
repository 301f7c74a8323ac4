#include "machine/boot/setup_header.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {
namespace {

using namespace bootproto;

template <typename T> T get(std::span<const uint8_t> image, size_t off) {
    T v{};
    if (off + sizeof v <= image.size()) std::memcpy(&v, image.data() + off, sizeof v);
    return v;
}

[[noreturn]] void fail(const std::string& path, const std::string& why) {
    throw std::runtime_error(fmt::format("could not load kernel '{}': {}", path, why));
}

} // namespace

bool is_bzimage(std::span<const uint8_t> image) {
    return image.size() >= HEADER + 4 && get<uint32_t>(image, HEADER) == HDRS_MAGIC;
}

SetupHeader parse_setup_header(std::span<const uint8_t> image, const std::string& path) {
    if (!is_bzimage(image))
        fail(path, "not a Linux bzImage (no 'HdrS' boot header at offset 0x202)");
    SetupHeader h;
    h.version = get<uint16_t>(image, VERSION);
    if (h.version < MIN_VERSION)
        fail(path, fmt::format("Linux boot protocol {}.{:02} is too old (2.06 or later needed)",
                               h.version >> 8, h.version & 0xff));
    h.setup_sects = image[SETUP_SECTS] ? image[SETUP_SECTS] : 4;
    h.header_end = std::min<size_t>(HEADER + image[JUMP + 1], HDR_MAX_END);
    if (image.size() <= std::max(h.header_end, h.setup_bytes()))
        fail(path, "kernel image is truncated");
    h.loadflags = image[LOADFLAGS];
    h.initrd_addr_max = get<uint32_t>(image, INITRD_ADDR_MAX);
    if (h.initrd_addr_max == 0) h.initrd_addr_max = DEFAULT_INITRD_ADDR_MAX;
    h.kernel_alignment = get<uint32_t>(image, KERNEL_ALIGNMENT);
    h.relocatable = image[RELOCATABLE_KERNEL] != 0;
    h.cmdline_size = get<uint32_t>(image, CMDLINE_SIZE);
    if (h.version >= 0x0208 && h.header_end >= PAYLOAD_LENGTH + 4) {
        h.payload_offset = get<uint32_t>(image, PAYLOAD_OFFSET);
        h.payload_length = get<uint32_t>(image, PAYLOAD_LENGTH);
    }
    if (h.version >= 0x020a && h.header_end >= INIT_SIZE + 4) {
        h.pref_address = get<uint64_t>(image, PREF_ADDRESS);
        h.init_size = get<uint32_t>(image, INIT_SIZE);
    }
    if (h.version >= 0x020c && h.header_end >= XLOADFLAGS + 2)
        h.xloadflags = get<uint16_t>(image, XLOADFLAGS);
    if (!(h.xloadflags & XLF_KERNEL_64))
        fail(path, "kernel has no 64-bit entry point (XLF_KERNEL_64 is not set); "
                   "only 64-bit bzImages can be booted directly");
    return h;
}

} // namespace kestrel
