#include "config/parser.h"
#include "config/smp_topology.h"

#include <catch2/catch.hpp>

using namespace kestrel;

namespace {

struct Topo {
    unsigned cpus, sockets, dies, cores, threads, maxcpus;
};

Topo topo_of(const SmpRequest& r) {
    SmpConfig s = resolve_smp(r);
    return {s.cpus, s.sockets, s.dies, s.cores, s.threads, s.maxcpus};
}

std::string error_of(const SmpRequest& r) {
    try {
        resolve_smp(r);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

bool same(const Topo& a, const Topo& b) {
    return a.cpus == b.cpus && a.sockets == b.sockets && a.dies == b.dies && a.cores == b.cores &&
           a.threads == b.threads && a.maxcpus == b.maxcpus;
}

} // namespace

TEST_CASE("smp: nothing given is one CPU", "[config][smp]") {
    CHECK(same(topo_of({}), {1, 1, 1, 1, 1, 1}));
}

TEST_CASE("smp: missing values prefer cores over sockets, threads last", "[config][smp]") {
    CHECK(same(topo_of({.cpus = 4}), {4, 1, 1, 4, 1, 4}));
    CHECK(same(topo_of({.cpus = 4, .sockets = 2}), {4, 2, 1, 2, 1, 4}));
    CHECK(same(topo_of({.cpus = 8, .sockets = 2, .threads = 2}), {8, 2, 1, 2, 2, 8}));
    CHECK(same(topo_of({.cpus = 8, .sockets = 2, .cores = 2}), {8, 2, 1, 2, 2, 8}));
    CHECK(same(topo_of({.cpus = 8, .cores = 2, .threads = 2}), {8, 2, 1, 2, 2, 8}));
    CHECK(same(topo_of({.cpus = 4, .dies = 2}), {4, 1, 2, 2, 1, 4}));
}

TEST_CASE("smp: without cpus the hierarchy or maxcpus gives the count", "[config][smp]") {
    CHECK(same(topo_of({.sockets = 2}), {2, 2, 1, 1, 1, 2}));
    CHECK(same(topo_of({.cores = 4, .threads = 2}), {8, 1, 1, 4, 2, 8}));
    CHECK(same(topo_of({.maxcpus = 8}), {8, 1, 1, 8, 1, 8}));
    CHECK(same(topo_of({.cpus = 2, .maxcpus = 8}), {2, 1, 1, 8, 1, 8}));
    CHECK(same(topo_of({.cpus = 2, .threads = 2, .maxcpus = 8}), {2, 1, 1, 4, 2, 8}));
}

TEST_CASE("smp: a product that does not match maxcpus is QEMU's error", "[config][smp]") {
    CHECK(error_of({.cpus = 4, .sockets = 3}) ==
          "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (3) * dies "
          "(1) * cores (1) * threads (1) != maxcpus (4)");
    CHECK(error_of({.cpus = 2, .sockets = 2, .maxcpus = 4}).empty());
    CHECK(error_of({.cpus = 4, .sockets = 2, .cores = 1, .threads = 1, .maxcpus = 4}) ==
          "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies "
          "(1) * cores (1) * threads (1) != maxcpus (4)");
    // Integer division leaves sockets at 0.
    CHECK(error_of({.cpus = 2, .cores = 2, .threads = 2}) ==
          "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (0) * dies "
          "(1) * cores (2) * threads (2) != maxcpus (2)");
    CHECK(error_of({.cpus = 4, .dies = 3}) ==
          "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * dies "
          "(3) * cores (1) * threads (1) != maxcpus (4)");
}

TEST_CASE("smp: maxcpus below cpus is QEMU's error", "[config][smp]") {
    CHECK(error_of({.cpus = 4, .maxcpus = 2}) ==
          "Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (1) * dies "
          "(1) * cores (2) * threads (1) == maxcpus (2) < smp_cpus (4)");
    CHECK(error_of({.cpus = 8, .sockets = 2, .maxcpus = 4}) ==
          "Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (2) * dies "
          "(1) * cores (2) * threads (1) == maxcpus (4) < smp_cpus (8)");
}

TEST_CASE("smp: the pc machine's limits", "[config][smp]") {
    CHECK(error_of({.cpus = 255}).empty());
    CHECK(error_of({.cpus = 256}) ==
          "Invalid SMP CPUs 256. The max CPUs supported by machine 'pc-i440fx-7.2' is 255");
    CHECK(error_of({.cpus = 2, .maxcpus = 300}) ==
          "Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-i440fx-7.2' is 255");
    // QEMU prints the count with %d.
    CHECK(error_of({.cpus = 0xffffffffu}) ==
          "Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-i440fx-7.2' is 255");
    CHECK(error_of({.cpus = 2, .clusters = 2}) ==
          "clusters not supported by this machine's CPU topology");
    CHECK(error_of({.cpus = 2, .clusters = 1}).empty());
    SmpLimits tiny{"tiny", 2, 4};
    CHECK_THROWS_WITH(resolve_smp({.cpus = 1}, tiny),
                      "Invalid SMP CPUs 1. The min CPUs supported by machine 'tiny' is 2");
}
