// virtio-rng-pci under the generic device register fuzzer: request chains
// the guest builds (readable, writable, indirect, broken) filled from the
// device's internal rng-builtin (guest RAM is the fuzzer's 1 MiB).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "virtio-rng-pci",
};
