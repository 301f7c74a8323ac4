// i8042 under the generic device register fuzzer (device_fuzzer.h).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "i8042",
};
