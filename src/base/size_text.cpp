#include "base/size_text.h"

#include <bit>
#include <cstdio>

namespace kestrel {

std::string size_to_str(uint64_t bytes) {
    static const char* const suffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    // The power of 1024 below bytes * 1.024 (= bytes * 128 / 125), in
    // integers: the floating-point way needs libm's frexp.
    uint64_t q = bytes / 125, r = bytes % 125;
    int exponent = q >> 57 ? 65 : std::bit_width(q * 128 + r * 128 / 125);
    int i = (exponent - 1) / 10;
    uint64_t div = uint64_t(1) << (i * 10);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%0.3g %sB", double(bytes) / double(div), suffixes[i]);
    return buf;
}

} // namespace kestrel
