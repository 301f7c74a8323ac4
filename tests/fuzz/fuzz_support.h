#pragma once
// What every kestrel fuzz target shares: quiet logging (set up by
// fuzz_support.cpp before the first input) and the guard that keeps
// monitor commands from writing host files (no_host_writes.cpp).
#include "byte_reader.h"

#include <cstddef>
#include <cstdint>

// libFuzzer's entry points, defined once per target.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// A property a target checks on every input: aborts (a crash the fuzzer
// records) with `what` when it does not hold.
#define FUZZ_CHECK(cond, what)                                                                  \
    do {                                                                                        \
        if (!(cond)) ::kestrel::fuzz::check_failed(what, __FILE__, __LINE__);                  \
    } while (0)

namespace kestrel::fuzz {
[[noreturn]] void check_failed(const char* what, const char* file, int line);
} // namespace kestrel::fuzz
