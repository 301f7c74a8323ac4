#include "virtio/pci/virtio_pci_function_device.h"

#include "devices/device_type.h"

namespace kestrel {

void VirtioPciFunctionDevice::describe(QtreeNode& node) const {
    PciFunctionDevice::describe(node);
    QtreeNode backend{std::string(type().backend), "", {}, {}, {}};
    for (const PropertySpec* spec : properties().specs())
        if (spec->qtree == PropertySpec::Qtree::Backend)
            backend.properties.emplace_back(std::string(spec->name), properties().qtree_text(*spec));
    node.buses.push_back({"virtio-bus", "virtio-pci-bus", {std::move(backend)}});
}

} // namespace kestrel
