// The standard VGA (1234:1111) under the generic device register fuzzer:
// the VGA ports, the Bochs VBE registers (absurd resolutions and
// offsets) and the framebuffer served as MMIO.
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "VGA",
};
