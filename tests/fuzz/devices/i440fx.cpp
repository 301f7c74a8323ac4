// i440FX under the generic device register fuzzer (device_fuzzer.h).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "i440FX",
    .properties = {{"addr", "0"}},
};
