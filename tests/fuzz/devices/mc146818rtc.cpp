// mc146818rtc under the generic device register fuzzer (device_fuzzer.h).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "mc146818rtc",
};
