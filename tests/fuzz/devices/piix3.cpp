// PIIX3 under the generic device register fuzzer (device_fuzzer.h).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "PIIX3",
    .properties = {{"addr", "1.0"}},
};
