// virtio-blk-pci under the generic device register fuzzer
// (device_fuzzer.h): the virtio PCI transport (legacy I/O BAR, modern
// capabilities, MSI-X), the split virtqueues and virtio-blk requests
// against a 64 KiB in-memory disk.
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "virtio-blk-pci",
    .properties = {{"drive", "d0"}, {"num-queues", "2"}},
    .drives = {"d0"},
    .ram_size = 1 << 20,
};
