// piix3-usb-uhci under the generic device register fuzzer: the UHCI
// registers and the frame list, TDs and QHs it walks in guest RAM (loops
// and wild pointers), with a usb-tablet on port 1.
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "piix3-usb-uhci",
    .children = {{"usb-tablet", "", {}}},
};
