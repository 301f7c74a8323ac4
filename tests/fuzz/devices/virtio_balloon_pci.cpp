// virtio-balloon-pci under the generic device register fuzzer: inflate and
// deflate page lists, the stats queue and free page reporting, with page
// numbers the guest chooses (guest RAM is the fuzzer's 1 MiB).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "virtio-balloon-pci",
};
