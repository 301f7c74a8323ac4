// e1000 under the generic device register fuzzer (device_fuzzer.h): its
// registers, EEPROM and PHY, and rings the input writes into guest RAM (no
// backend: frames are gathered, checksummed, segmented, then dropped).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "e1000",
};
