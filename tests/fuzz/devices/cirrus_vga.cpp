// cirrus-vga under the generic device register fuzzer: the VGA core's
// ports, the extended registers, the BitBLT engine (every blit must stay
// inside VRAM) and the framebuffer served as MMIO.
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "cirrus-vga",
};
