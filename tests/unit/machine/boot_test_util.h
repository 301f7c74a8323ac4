#pragma once
// Small helpers of the boot loader tests: an error's text, values and
// strings read back from guest memory.
#include "kvm/guest_memory.h"

#include <catch2/catch.hpp>
#include <functional>
#include <stdexcept>
#include <string>

namespace kestrel::test {

// The std::runtime_error text `f` throws, "" if it throws none.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

template <typename T> T at(const GuestMemory& mem, uint64_t gpa) {
    T v{};
    REQUIRE(mem.read_obj(gpa, v));
    return v;
}

inline std::string string_at(const GuestMemory& mem, uint64_t gpa) {
    std::string s;
    for (char c; (c = char(at<uint8_t>(mem, gpa))); ++gpa) s += c;
    return s;
}

} // namespace kestrel::test
