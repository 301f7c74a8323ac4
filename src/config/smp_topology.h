#pragma once
// "-smp" topology completion with QEMU 7.2's rules for the pc machine (which
// has dies but no clusters):
// omitted values are computed from the given ones (preferring cores over
// sockets, threads last), a given 0 counts as omitted (deprecated), and
// inconsistent results are errors with QEMU's messages.
#include "config/config.h"

#include <cstdint>

namespace kestrel {

struct SmpRequest {  // 0 = not given (or given as 0)
    uint32_t cpus = 0, sockets = 0, dies = 0, clusters = 0, cores = 0, threads = 0, maxcpus = 0;
};

struct SmpLimits {
    const char* machine_name = "pc-i440fx-7.2";
    unsigned min_cpus = 1;
    unsigned max_cpus = 255;
};

// Throws ConfigError("Invalid CPU topology: ...", "Invalid SMP CPUs ...").
SmpConfig resolve_smp(const SmpRequest& request, const SmpLimits& limits = {});

} // namespace kestrel
