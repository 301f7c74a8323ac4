// PIIX4_PM under the generic device register fuzzer (device_fuzzer.h).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "PIIX4_PM",
    .properties = {{"addr", "1.3"}},
};
