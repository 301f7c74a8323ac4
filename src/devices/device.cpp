#include "devices/device.h"

namespace kestrel {

void Device::describe(QtreeNode& node) const {
    node.type = std::string(type().name);
    node.id = id();
    for (const PropertySpec* spec : properties().specs())
        if (spec->qtree == PropertySpec::Qtree::Device && spec->type != PropType::BootIndex &&
            spec->type != PropType::Iothread)
            node.properties.emplace_back(std::string(spec->name), properties().qtree_text(*spec));
}

} // namespace kestrel
