// HMP's vCPU hotplug: info hotpluggable-cpus in QEMU 7.2's layout (the
// last slot first, qom_path only for present vCPUs, die-id only with
// dies), device_add/device_del of a vCPU through the machine's VcpuHotplug
// service with its errors, and both on a machine without one.
#include "devices/device_hotplug.h"
#include "hmp_fakes.h"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace kestrel;
using namespace kestrel::hmp_test;

namespace {

struct FakeVcpuHotplug final : VcpuHotplug {
    std::vector<std::vector<qopts::OptPair>> added;
    std::vector<unsigned> deleted;
    void add_vcpu(const std::vector<qopts::OptPair>& options) override {
        for (const qopts::OptPair& p : options)
            if (p.key == "core-id" && p.value == "0") throw std::runtime_error("CPU[0] with APIC ID 0 exists");
        added.push_back(options);
    }
    void delete_vcpu(unsigned index) override { deleted.push_back(index); }
};

PossibleCpus two_slots(bool with_die) {
    PossibleCpus cpus;
    cpus.type = "qemu64-x86_64-cpu";
    cpus.with_die = with_die;
    cpus.slots.resize(2);
    cpus.slots[0].qom_path = "/machine/unattached/device[0]";
    cpus.slots[1].core_id = 1;
    return cpus;
}

} // namespace

TEST_CASE("info hotpluggable-cpus: QEMU 7.2's layout", "[hmp][cpu]") {
    Monitor m;
    CHECK(m.run("info hotpluggable-cpus") == lines({"Error: The feature 'query-hotpluggable-cpus' is not enabled"}));
    m.vm.possible = two_slots(false);
    CHECK(m.run("info hotpluggable-cpus") ==
          lines({"Hotpluggable CPUs:", "  type: \"qemu64-x86_64-cpu\"", "  vcpus_count: \"1\"",
                 "  CPUInstance Properties:", "    socket-id: \"0\"", "    core-id: \"1\"", "    thread-id: \"0\"",
                 "  type: \"qemu64-x86_64-cpu\"", "  vcpus_count: \"1\"",
                 "  qom_path: \"/machine/unattached/device[0]\"", "  CPUInstance Properties:",
                 "    socket-id: \"0\"", "    core-id: \"0\"", "    thread-id: \"0\""}));
    m.vm.possible = two_slots(true);
    CHECK(m.run("info hotpluggable-cpus").find("    socket-id: \"0\"\r\n    die-id: \"0\"\r\n    core-id: \"1\"") !=
          std::string::npos);
}

TEST_CASE("device_add and device_del of a vCPU go to the machine", "[hmp][cpu]") {
    Monitor m;
    CHECK(m.run("device_add qemu64-x86_64-cpu,id=c2,socket-id=0,core-id=2,thread-id=0") ==
          lines({"Error: Device 'qemu64-x86_64-cpu' can not be hotplugged on this machine"}));
    CHECK(m.run("device_del c1") ==
          lines({"Error: acpi: device unplug request for not supported device type: qemu64-x86_64-cpu"}));
    FakeVcpuHotplug hotplug;
    m.vm.registry.add<VcpuHotplug>(hotplug);
    CHECK(m.run("device_add qemu64-x86_64-cpu,id=c2,socket-id=0,core-id=2,thread-id=0").empty());
    REQUIRE(hotplug.added.size() == 1);
    CHECK(hotplug.added[0].front().key == "driver");
    CHECK(hotplug.added[0].front().value == "qemu64-x86_64-cpu");
    CHECK(m.run("device_add qemu64-x86_64-cpu,socket-id=0,core-id=0,thread-id=0") ==
          lines({"Error: CPU[0] with APIC ID 0 exists"}));
    CHECK(m.run("device_del c1").empty());
    CHECK(m.run("device_del /machine/peripheral/c1").empty());
    CHECK(hotplug.deleted == std::vector<unsigned>{1, 1});
    CHECK(m.run("device_del /machine/unattached/device[0]") == lines({"Error: Boot CPU is unpluggable"}));
}
