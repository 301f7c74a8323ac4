#pragma once
// The vCPUs as -smp and -cpu ask for them.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace kestrel {

// A vCPU that "-device TYPE-x86_64-cpu,socket-id=..." adds at start-up
// (cold plug) in the topology slot `index` (QEMU's cpu-index).
struct ColdPluggedCpu {
    unsigned index = 0;
    std::string id;                // "" when anonymous
    unsigned anonymous_number = 0; // without id: N of /machine/peripheral-anon/device[N]

    std::string qom_path() const {
        return id.empty() ? "/machine/peripheral-anon/device[" + std::to_string(anonymous_number) + "]"
                          : "/machine/peripheral/" + id;
    }
};

struct SmpConfig {
    unsigned cpus = 1;     // the first `cpus` slots, as QEMU's smp.cpus
    unsigned sockets = 1;
    unsigned dies = 1;
    unsigned cores = 1;
    unsigned threads = 1;
    unsigned maxcpus = 1;
    std::vector<ColdPluggedCpu> plugged;  // -device CPUs, in creation order
    std::vector<unsigned> unplugged;      // slots below `cpus` whose vCPU device_del took away

    const ColdPluggedCpu* plugged_at(unsigned index) const {
        for (const ColdPluggedCpu& c : plugged)
            if (c.index == index) return &c;
        return nullptr;
    }
    bool smp_present(unsigned index) const {
        return index < cpus && std::find(unplugged.begin(), unplugged.end(), index) == unplugged.end();
    }
    // Whether slot `index` has a vCPU (at start-up, or now on a running machine).
    bool present(unsigned index) const { return smp_present(index) || plugged_at(index); }
    // QEMU's boot_cpus: what firmware is told (fw_cfg, CMOS) and the MADT enables.
    unsigned present_count() const { return cpus - unsigned(unplugged.size()) + unsigned(plugged.size()); }
    // The vCPU in slot `index` is gone (device_del, the guest ejected it).
    void remove(unsigned index) {
        if (plugged_at(index))
            std::erase_if(plugged, [&](const ColdPluggedCpu& c) { return c.index == index; });
        else if (smp_present(index))
            unplugged.push_back(index);
    }
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
