#pragma once
// The base of virtio-*-pci devices: a PCI function whose "info qtree" node
// carries the virtio device below the proxy (QEMU's virtio-bus with its
// "virtio-*-device" and the properties that belong to it).
#include "devices/pci/pci_function_device.h"

namespace kestrel {

class VirtioPciFunctionDevice : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;
    void describe(QtreeNode& node) const override;
};

} // namespace kestrel
