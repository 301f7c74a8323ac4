#pragma once
// The vCPUs as -smp and -cpu ask for them.
#include <string>
#include <utility>
#include <vector>

namespace kestrel {

struct SmpConfig {
    unsigned cpus = 1;
    unsigned sockets = 1;
    unsigned dies = 1;
    unsigned cores = 1;
    unsigned threads = 1;
    unsigned maxcpus = 1;
};

struct CpuConfig {
    std::string model = "qemu64";  // host | max | qemu64 | kvm64
    // Canonical names (see config/cpu_features.h); true = enable. Apply in
    // order: the parser stores them in QEMU's precedence order (feat=on|off
    // in command-line order, then every +feat, then every -feat), so the
    // last entry for a name is the one QEMU would use.
    std::vector<std::pair<std::string, bool>> features;
};

} // namespace kestrel
