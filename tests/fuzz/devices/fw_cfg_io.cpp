// fw_cfg on I/O ports under the generic device register fuzzer: selector,
// data port and the DMA interface (descriptors and buffers anywhere in
// guest RAM, or outside it).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "fw_cfg_io",
};
