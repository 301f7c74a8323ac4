#pragma once
// A range of guest RAM by guest-physical address.
#include <cstdint>

namespace kestrel {

struct RamBlock {
    uint64_t gpa = 0, size = 0;
};

} // namespace kestrel
