#pragma once
// Reading ACPI tables back out of guest memory in tests.
#include "kvm/guest_memory.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

namespace kestrel::test {

template <typename T> T get(const std::vector<uint8_t>& b, size_t off) {
    T v{};
    REQUIRE(off + sizeof v <= b.size());
    std::memcpy(&v, b.data() + off, sizeof v);
    return v;
}

inline std::vector<uint8_t> read_bytes(const GuestMemory& mem, uint64_t gpa, size_t len) {
    std::vector<uint8_t> b(len);
    REQUIRE(mem.read(gpa, b));
    return b;
}

// A table with the standard header: its length comes from the header.
inline std::vector<uint8_t> read_table(const GuestMemory& mem, uint64_t gpa) {
    uint32_t len = 0;
    REQUIRE(mem.read_obj(gpa + 4, len));
    REQUIRE(len >= 36);
    return read_bytes(mem, gpa, len);
}

inline std::string signature(const std::vector<uint8_t>& t) {
    return std::string(t.begin(), t.begin() + 4);
}

inline unsigned byte_sum(const std::vector<uint8_t>& b, size_t len) {
    unsigned s = 0;
    for (size_t i = 0; i < len; i++) s += b[i];
    return s & 0xff;
}

} // namespace kestrel::test
