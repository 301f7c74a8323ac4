#include "monitor/medium_commands.h"

#include "devices/device_tree.h"

namespace kestrel {

void with_media(VmControl& vm, const MediumTarget& target, const std::function<void(MediumService&)>& fn) {
    if (target.device.has_value() == target.id.has_value())
        throw MonitorError("Need exactly one of 'device' and 'id'");
    MediumService* media = vm.services().find<MediumService>();
    if (!media)
        throw MonitorError(QmpErrorClass::DeviceNotFound,
                           "Device '" + (target.device ? *target.device : *target.id) + "' not found");
    try {
        fn(*media);
    } catch (const MediumError& e) {
        // A device without a drive, as QEMU's blk_by_qdev_id says it.
        const DeviceTree& tree = vm.devices();
        if (e.device_not_found && target.id && (tree.find_by_id(*target.id) || tree.find_by_path(*target.id)))
            throw MonitorError("Device does not have a block device backend");
        throw MonitorError(e.device_not_found ? QmpErrorClass::DeviceNotFound : QmpErrorClass::GenericError,
                           e.what());
    }
}

} // namespace kestrel
