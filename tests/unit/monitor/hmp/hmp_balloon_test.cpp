// HMP balloon and info balloon, answered as qemu-system-x86_64 7.2 answers
// with -m 1024 -device virtio-balloon-pci.
#include "../balloon_fake_vm.h"
#include "hmp_fakes.h"

#include "monitor/hmp/hmp.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::balloon_test;
using kestrel::hmp_test::lines;

namespace {

struct BalloonMonitor {
    BalloonFakeVm vm;
    HmpServices services{vm};
    HmpState state;
    std::string run(std::string_view line) { return run_hmp_command(services, state, line); }
};

} // namespace

TEST_CASE("info balloon: the guest's memory in MiB", "[hmp][balloon]") {
    BalloonMonitor m;
    CHECK(m.run("info balloon") == lines({"balloon: actual=1024"}));
    m.vm.balloon.actual_bytes = (256ull << 20) + 4095;
    CHECK(m.run("info balloon") == lines({"balloon: actual=256"}));
}

TEST_CASE("balloon: a target in MiB, QEMU's errors", "[hmp][balloon]") {
    BalloonMonitor m;
    CHECK(m.run("balloon 512").empty());
    CHECK(m.run("balloon 0x10").empty());
    CHECK(m.run("balloon 100000000000").empty());  // more than RAM: the device takes all of it
    CHECK(m.vm.balloon.targets == std::vector<uint64_t>{512ull << 20, 16ull << 20, 100000000000ull << 20});
    CHECK(m.run("balloon 0") == lines({"Error: Parameter 'target' expects a size"}));
    CHECK(m.run("balloon -1") == lines({"enter a positive value", "Try \"help balloon\" for more information"}));
    CHECK(m.run("balloon 1g") ==
          lines({"balloon: extraneous characters at the end of line", "Try \"help balloon\" for more information"}));
    CHECK(m.run("balloon") ==
          lines({"unexpected end of expression", "Try \"help balloon\" for more information"}));
    CHECK(m.run("balloon abc") ==
          lines({"invalid char 'a' in expression", "Try \"help balloon\" for more information"}));
    CHECK(m.vm.balloon.targets.size() == 3);
}

TEST_CASE("HMP balloon commands without a balloon device", "[hmp][balloon]") {
    BalloonFakeVm vm(false);
    HmpServices services{vm};
    HmpState state;
    CHECK(run_hmp_command(services, state, "info balloon") == lines({"Error: No balloon device has been activated"}));
    CHECK(run_hmp_command(services, state, "balloon 0") == lines({"Error: No balloon device has been activated"}));
}
