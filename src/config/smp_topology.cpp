#include "config/smp_topology.h"

#include "config/parser.h"

#include <fmt/format.h>

namespace kestrel {

namespace {

// All arithmetic is on 32-bit unsigned values, as QEMU's is; a product that
// wraps simply fails the consistency check below.
std::string hierarchy_text(const SmpConfig& s) {
    return fmt::format("sockets ({}) * dies ({}) * cores ({}) * threads ({})", s.sockets, s.dies,
                       s.cores, s.threads);
}

unsigned or_one(unsigned v) { return v > 0 ? v : 1; }

// Divides guarding against a zero divisor (possible only with wrapped input).
unsigned divide(unsigned a, unsigned b) { return b ? a / b : 0; }

} // namespace

SmpConfig resolve_smp(const SmpRequest& r, const SmpLimits& limits) {
    if (r.clusters > 1)
        throw ConfigError("clusters not supported by this machine's CPU topology");

    unsigned sockets = r.sockets, cores = r.cores, threads = r.threads;
    unsigned dies = or_one(r.dies);
    unsigned maxcpus = r.maxcpus;
    if (r.cpus == 0 && r.maxcpus == 0) {
        sockets = or_one(sockets);
        cores = or_one(cores);
        threads = or_one(threads);
    } else {
        maxcpus = maxcpus > 0 ? maxcpus : r.cpus;
        if (cores == 0) {  // since QEMU 6.2 cores are preferred over sockets
            sockets = or_one(sockets);
            threads = or_one(threads);
            cores = divide(maxcpus, sockets * dies * threads);
        } else if (sockets == 0) {
            threads = or_one(threads);
            sockets = divide(maxcpus, dies * cores * threads);
        }
        if (threads == 0)
            threads = divide(maxcpus, sockets * dies * cores);
    }
    unsigned product = sockets * dies * cores * threads;
    maxcpus = maxcpus > 0 ? maxcpus : product;

    SmpConfig smp;
    smp.cpus = r.cpus > 0 ? r.cpus : maxcpus;
    smp.sockets = sockets;
    smp.dies = dies;
    smp.cores = cores;
    smp.threads = threads;
    smp.maxcpus = maxcpus;

    if (product != maxcpus)
        throw ConfigError(fmt::format(
            "Invalid CPU topology: product of the hierarchy must match maxcpus: {} != maxcpus ({})",
            hierarchy_text(smp), maxcpus));
    if (maxcpus < smp.cpus)
        throw ConfigError(fmt::format("Invalid CPU topology: maxcpus must be equal to or greater "
                                      "than smp: {} == maxcpus ({}) < smp_cpus ({})",
                                      hierarchy_text(smp), maxcpus, smp.cpus));
    // QEMU prints these two counts with %d, so 4294967295 appears as -1.
    if (smp.cpus < limits.min_cpus)
        throw ConfigError(fmt::format("Invalid SMP CPUs {}. The min CPUs supported by machine "
                                      "'{}' is {}",
                                      int32_t(smp.cpus), limits.machine_name, limits.min_cpus));
    if (smp.maxcpus > limits.max_cpus)
        throw ConfigError(fmt::format("Invalid SMP CPUs {}. The max CPUs supported by machine "
                                      "'{}' is {}",
                                      int32_t(smp.maxcpus), limits.machine_name, limits.max_cpus));
    return smp;
}

} // namespace kestrel
