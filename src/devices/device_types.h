#pragma once
// The table of every device type kestrel has (device_types.cpp), for the
// layers that create and list devices: config, monitor, machine.
#include "devices/device_type.h"

#include <span>
#include <string_view>

namespace kestrel {

std::span<const DeviceType* const> device_types();
// By name or alias; nullptr if kestrel has no such type.
const DeviceType* find_device_type(std::string_view name);

} // namespace kestrel
