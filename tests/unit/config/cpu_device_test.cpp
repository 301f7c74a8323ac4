// -device TYPE-x86_64-cpu: the slot, id and QOM path a cold-plugged vCPU
// gets, and QEMU 7.2's pc_cpu_pre_plug errors (texts checked against
// qemu-system-x86_64 7.2).
#include "config/cpu_device.h"
#include "parse_helpers.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

const std::vector<std::string> kSmp4 = {"-smp", "1,maxcpus=4,sockets=4,cores=1,threads=1"};

std::vector<std::string> with(std::vector<std::string> args, std::initializer_list<std::string> more) {
    args.insert(args.end(), more);
    return args;
}

std::string cpu_error(const std::string& device, std::vector<std::string> base = kSmp4) {
    return parse_error(with(base, {"-device", device}));
}

} // namespace

TEST_CASE("-device CPU: libvirt's JSON form takes its slot", "[cpu-device]") {
    Config c = parse_ok(with(kSmp4, {"-device",
        R"({"driver":"qemu64-x86_64-cpu","id":"vcpu1","socket-id":1,"core-id":0,"thread-id":0})"}));
    CHECK(c.smp.cpus == 1);
    REQUIRE(c.smp.plugged.size() == 1);
    CHECK(c.smp.plugged[0].index == 1);
    CHECK(c.smp.plugged[0].qom_path() == "/machine/peripheral/vcpu1");
    CHECK(c.smp.present(0));
    CHECK(c.smp.present(1));
    CHECK_FALSE(c.smp.present(2));
    CHECK(c.smp.present_count() == 2);
    CHECK(c.devices.empty());  // not a device of the device tree
}

TEST_CASE("-device CPU: anonymous ones count among the peripheral-anon devices", "[cpu-device]") {
    Config c = parse_ok(with(kSmp4, {"-device", "pc-testdev", "-device",
                                     "qemu64-x86_64-cpu,socket-id=3,core-id=0,thread-id=0", "-device",
                                     "qemu64-x86_64-cpu,socket-id=2,core-id=0,thread-id=0,id=c2", "-device",
                                     "qemu64-x86_64-cpu,apic-id=1"}));
    REQUIRE(c.smp.plugged.size() == 3);
    CHECK(c.smp.plugged[0].index == 3);
    CHECK(c.smp.plugged[0].qom_path() == "/machine/peripheral-anon/device[1]");  // after pc-testdev's [0]
    CHECK(c.smp.plugged[1].qom_path() == "/machine/peripheral/c2");
    CHECK(c.smp.plugged[2].index == 1);
    CHECK(c.smp.plugged[2].qom_path() == "/machine/peripheral-anon/device[2]");
    CHECK(c.smp.present_count() == 4);
}

TEST_CASE("-device CPU: the slot in a topology with threads, cores and dies", "[cpu-device]") {
    Config c = parse_ok({"-smp", "1,sockets=2,dies=2,cores=2,threads=2,maxcpus=16", "-device",
                         "qemu64-x86_64-cpu,socket-id=1,die-id=1,core-id=0,thread-id=1"});
    REQUIRE(c.smp.plugged.size() == 1);
    CHECK(c.smp.plugged[0].index == 13);  // 1*8 + 1*4 + 0*2 + 1
}

TEST_CASE("-device CPU: the type must be -cpu's", "[cpu-device]") {
    CHECK(cpu_error("kvm64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0") ==
          "-device kvm64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0: "
          "Invalid CPU type, expected cpu type: 'qemu64-x86_64-cpu'");
    CHECK(cpu_error("qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0",
                    {"-cpu", "kvm64", "-smp", "1,maxcpus=2,sockets=2"})
              .ends_with("Invalid CPU type, expected cpu type: 'kvm64-x86_64-cpu'"));
    CHECK(parse_ok({"-cpu", "kvm64", "-smp", "1,maxcpus=2,sockets=2", "-device",
                    "kvm64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0"})
              .smp.plugged.size() == 1);
}

TEST_CASE("-device CPU: ids missing or out of range", "[cpu-device]") {
    auto tail = [](const std::string& device, std::vector<std::string> base = kSmp4) {
        std::string e = cpu_error(device, base);
        return e.substr(e.find(": ") + 2);
    };
    CHECK(tail("qemu64-x86_64-cpu,core-id=0,thread-id=0") == "CPU socket-id is not set");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=-1,core-id=0,thread-id=0") == "CPU socket-id is not set");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=1,thread-id=0") == "CPU core-id is not set");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=1,core-id=0") == "CPU thread-id is not set");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=4,core-id=0,thread-id=0") ==
          "Invalid CPU socket-id: 4 must be in range 0:3");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=1,core-id=1,thread-id=0") ==
          "Invalid CPU core-id: 1 must be in range 0:0");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=1") ==
          "Invalid CPU thread-id: 1 must be in range 0:0");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,die-id=1") ==
          "Invalid CPU die-id: 1 must be in range 0:0");
    std::vector<std::string> dies = {"-smp", "1,sockets=2,dies=2,maxcpus=4"};
    CHECK(tail("qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0", dies) == "CPU die-id is not set");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,die-id=2", dies) ==
          "Invalid CPU die-id: 2 must be in range 0:1");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=x,core-id=0,thread-id=0") == "Parameter 'socket-id' expects integer");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=5000000000,core-id=0,thread-id=0") ==
          "Parameter 'socket-id' expects int32_t");
    CHECK(tail("qemu64-x86_64-cpu,apic-id=-1") == "Parameter 'apic-id' expects uint32_t");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,foo=1") ==
          "Property 'qemu64-x86_64-cpu.foo' not found");
}

TEST_CASE("-device CPU: a slot taken, by -smp or by another -device", "[cpu-device]") {
    CHECK(cpu_error("qemu64-x86_64-cpu,socket-id=0,core-id=0,thread-id=0")
              .ends_with(": CPU[0] with APIC ID 0 exists"));
    CHECK(cpu_error("qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0", {"-smp", "2,sockets=2,maxcpus=2"})
              .ends_with(": CPU[1] with APIC ID 1 exists"));
    CHECK(parse_error(with(kSmp4, {"-device", "qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,id=a", "-device",
                                   "qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0"})) ==
          "-device qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0: CPU[1] with APIC ID 1 exists");
    // Without maxcpus= every slot has its vCPU: no -device CPU fits (more than maxcpus).
    CHECK(cpu_error("qemu64-x86_64-cpu,socket-id=0,core-id=0,thread-id=0", {"-smp", "1"})
              .ends_with(": CPU[0] with APIC ID 0 exists"));
}

TEST_CASE("-device CPU: apic-id= instead of the ids", "[cpu-device]") {
    auto tail = [](const std::string& device) {
        std::string e = cpu_error(device);
        return e.substr(e.find(": ") + 2);
    };
    CHECK(tail("qemu64-x86_64-cpu,apic-id=9") ==
          "Invalid CPU [socket: 9, die: 0, core: 0, thread: 0] with APIC ID 9, valid index range 0:3");
    CHECK(tail("qemu64-x86_64-cpu,apic-id=1,socket-id=2") ==
          "property socket-id: 2 doesn't match set apic-id: 0x1 (socket-id: 1)");
    CHECK(tail("qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,apic-id=5") ==
          "Invalid CPU [socket: 5, die: 0, core: 0, thread: 0] with APIC ID 5, valid index range 0:3");
}

TEST_CASE("-device CPU: an id shared with another device", "[cpu-device]") {
    CHECK(parse_error(with(kSmp4, {"-device", "pc-testdev,id=x", "-device",
                                   "qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,id=x"}))
              .ends_with("Duplicate ID 'x' for device"));
}

TEST_CASE("-device CPU: a -smp slot whose vCPU device_del took away is free", "[cpu-device]") {
    Config c = parse_ok({"-smp", "2,maxcpus=4"});
    const std::vector<qopts::OptPair> slot1 = {
        {"driver", "qemu64-x86_64-cpu"}, {"socket-id", "0"}, {"core-id", "1"}, {"thread-id", "0"}, {"id", "cpu1"}};
    CHECK_THROWS_WITH(check_cpu_device(c.smp, "qemu64", slot1), "CPU[1] with APIC ID 1 exists");
    c.smp.remove(1);
    c.smp.remove(1);  // twice: no effect
    CHECK(c.smp.unplugged == std::vector<unsigned>{1});
    CHECK(c.smp.present_count() == 1);
    ColdPluggedCpu cpu = check_cpu_device(c.smp, "qemu64", slot1);
    CHECK(cpu.index == 1);
    CHECK(cpu.id == "cpu1");
}
