// The table of every device type kestrel has: each is defined in its
// folder; adding a device is its folder and one line here.
#include "devices/device_types.h"

namespace kestrel {

#define KESTREL_DEVICE_TYPES(X)                                                                                \
    X(kI440fxPcihostType)                                                                                      \
    X(kI440fxType)                                                                                             \
    X(kPiix3Type)                                                                                              \
    X(kPiix4PmType)                                                                                            \
    X(kMc146818RtcType)                                                                                        \
    X(kI8042Type)                                                                                              \
    X(kPort92Type)                                                                                             \
    X(kIsaSerialType)                                                                                          \
    X(kVirtioBlkPciType)                                                                                       \
    X(kIsaDebugExitType)                                                                                       \
    X(kFwCfgIoType)                                                                                            \
    X(kIsaDebugconType)                                                                                        \
    X(kPcTestdevType)                                                                                          \
    X(kPciTestdevType)                                                                                         \
    X(kPvpanicType)                                                                                            \
    X(kKvmPitType)                                                                                             \
    X(kVirtioBalloonPciType)                                                                                    \
    X(kVirtioNetPciType)                                                                                        \
    X(kVirtioRngPciType)                                                                                        \
    X(kVirtioSerialPciType)                                                                                     \
    X(kVirtserialportType)                                                                                      \
    X(kVirtconsoleType)                                                                                         \
    X(kStdVgaType)                                                                                             \
    X(kCirrusVgaType)                                                                                          \
    X(kPiix3UhciType)                                                                                          \
    X(kPiix3IdeType)                                                                                           \
    X(kPiix4IdeType)                                                                                           \
    X(kUsbTabletType)                                                                                          \
    X(kE1000Type)                                                                                              \
    X(kIdeHdType)                                                                                              \
    X(kIdeCdType)

#define KESTREL_DECLARE(type) extern const DeviceType type;
#define KESTREL_ADDRESS(type) &type,
KESTREL_DEVICE_TYPES(KESTREL_DECLARE)
const DeviceType* const kDeviceTypes[] = {KESTREL_DEVICE_TYPES(KESTREL_ADDRESS)};

std::span<const DeviceType* const> device_types() { return kDeviceTypes; }

const DeviceType* find_device_type(std::string_view name) {
    for (const DeviceType* type : kDeviceTypes)
        if (type->name == name || (!type->alias.empty() && type->alias == name)) return type;
    return nullptr;
}

} // namespace kestrel
