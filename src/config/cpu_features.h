#pragma once
// Names accepted in "-cpu model,+feat,-feat,feat=on|off".
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kestrel {

// QEMU's recognised CPUID flag names, sorted.
std::span<const std::string_view> cpuid_flag_names();

// The canonical name for a feature or boolean CPU property ('_' spelled '-',
// aliases such as "sse4_1" → "sse4.1", "sse3" → "pni"), or nullopt when
// QEMU's x86 CPU has no such boolean property.
std::optional<std::string> canonical_cpu_feature(std::string_view name);

} // namespace kestrel
