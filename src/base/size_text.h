#pragma once
#include <cstdint>
#include <string>

namespace kestrel {

// QEMU's size_to_str: three significant digits and a binary unit, moving
// to the next unit from 1000 of the previous one: "512 B", "196 KiB",
// "0.977 MiB" (1000 KiB), "1 GiB".
std::string size_to_str(uint64_t bytes);

} // namespace kestrel
