#pragma once
// Internal to src/config: QEMU 7.2's device type names (qemu_device_names.cpp).
#include <string_view>

namespace kestrel {

bool is_qemu_device_name(std::string_view name);

} // namespace kestrel
