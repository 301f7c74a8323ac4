// virtio-net-pci under the generic device register fuzzer: the virtio PCI
// transport, RX/TX/control virtqueues and the control commands (MAC
// tables, VLANs, multiqueue), with no backend (frames sent are dropped).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "virtio-net-pci",
    .properties = {{"mq", "on"}, {"vectors", "6"}},
};
