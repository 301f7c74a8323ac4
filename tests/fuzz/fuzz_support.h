#pragma once
// What every kestrel fuzz target shares: quiet logging (set up by
// fuzz_support.cpp before the first input) and the guard that keeps
// monitor commands from writing host files (no_host_writes.cpp).
#include "byte_reader.h"

#include <cstddef>
#include <cstdint>
#include <string>

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

// A private folder of this process (mkdtemp under /dev/shm, else $TMPDIR
// or /tmp; removed at a normal exit) where a target writes its own files: images, boot
// files, a kernel cache. The open() guard lets writes under it through, and
// only there. Created on the first call.
const std::string& scratch_dir();
// Writes `bytes` to scratch_dir()/name (created or truncated); its path.
std::string write_scratch_file(const std::string& name, const void* bytes, size_t size);
// Points the kernel cache ($KESTREL_KERNEL_CACHE) at scratch_dir()/kernels:
// the boot targets fill and read it there, never in $HOME.
void use_scratch_kernel_cache();
} // namespace kestrel::fuzz
