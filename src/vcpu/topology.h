#pragma once
// CPU topology as x86 encodes it: APIC IDs pack thread, core, die and socket
// numbers into bit fields, each as wide as its count rounded up to a power
// of two. MADT entries and CPUID leaves 1/4/0xB/0x1F must all use this.
#include "vcpu/cpu_config.h"

#include <bit>
#include <cstdint>

namespace kestrel {

inline unsigned topo_bits(unsigned count) {
    return count <= 1 ? 0 : unsigned(std::bit_width(count - 1));
}

struct TopologyIds {
    unsigned socket, die, core, thread;
};

inline TopologyIds topology_ids(unsigned cpu_index, const SmpConfig& smp) {
    TopologyIds t{};
    t.thread = cpu_index % smp.threads;
    t.core = (cpu_index / smp.threads) % smp.cores;
    t.die = (cpu_index / (smp.threads * smp.cores)) % smp.dies;
    t.socket = cpu_index / (smp.threads * smp.cores * smp.dies);
    return t;
}

inline uint32_t apic_id_for(unsigned cpu_index, const SmpConfig& smp) {
    TopologyIds t = topology_ids(cpu_index, smp);
    unsigned tb = topo_bits(smp.threads), cb = topo_bits(smp.cores), db = topo_bits(smp.dies);
    return (t.socket << (db + cb + tb)) | (t.die << (cb + tb)) | (t.core << tb) | t.thread;
}

} // namespace kestrel
