// query-hotpluggable-cpus over the fake machine's possible vCPUs, device_add
// of a vCPU (kestrel has no vCPU hotplug), and the schema entries libvirt
// reads its capabilities from (device_add's json-cli features, the props
// of query-hotpluggable-cpus).
#include "qmp_fakes.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::qmp;
using namespace kestrel::qmp::test;

namespace {

Json reply(QmpRig& rig, const std::string& command) { return Json::parse(rig.exec(command)); }

std::string error(QmpRig& rig, const std::string& command) {
    Json r = reply(rig, command);
    REQUIRE(r.contains("error"));
    return r["error"]["class"].get<std::string>() + ": " + r["error"]["desc"].get<std::string>();
}

// -smp 1,dies=2,threads=2,maxcpus=4 with vCPU 0 present.
PossibleCpus two_dies() {
    PossibleCpus cpus;
    cpus.type = "qemu64-x86_64-cpu";
    cpus.with_die = true;
    for (unsigned i = 0; i < 4; ++i) {
        CpuSlot slot;
        slot.thread_id = i % 2;
        slot.die_id = i / 2;
        if (i == 0) slot.qom_path = "/machine/unattached/device[0]";
        cpus.slots.push_back(slot);
    }
    return cpus;
}

Json schema_entry(const Json& schema, const std::string& name) {
    for (const Json& e : schema)
        if (e["name"] == name) return e;
    FAIL("no schema entry " << name);
    return {};
}

// The type of member `name` of object type `object`, "" if it has none.
std::string member_type(const Json& schema, const std::string& object, const std::string& name) {
    Json type = schema_entry(schema, object);
    for (const Json& m : type["members"])
        if (m["name"] == name) return m["type"].get<std::string>();
    return "";
}

} // namespace

TEST_CASE("query-hotpluggable-cpus: every possible vCPU, the last first", "[qmp][cpu]") {
    QmpRig rig;
    rig.negotiate();
    rig.vm.possible = two_dies();
    Json r = reply(rig, R"({"execute":"query-hotpluggable-cpus"})");
    REQUIRE(r["return"].size() == 4);
    const Json& last = r["return"][0];
    CHECK(last.size() == 3);
    CHECK(last["type"] == "qemu64-x86_64-cpu");
    CHECK(last["vcpus-count"] == 1);
    const Json& props = last["props"];
    CHECK(props.size() == 4);
    CHECK((props["socket-id"] == 0 && props["die-id"] == 1 && props["core-id"] == 0 && props["thread-id"] == 1));
    const Json& first = r["return"][3];
    CHECK(first["qom-path"] == "/machine/unattached/device[0]");
    CHECK(first["props"]["die-id"] == 0);
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(r["return"][i].contains("qom-path"));

    rig.vm.possible.with_die = false;   // one die: QEMU leaves die-id out
    CHECK_FALSE(reply(rig, R"({"execute":"query-hotpluggable-cpus"})")["return"][0]["props"].contains("die-id"));
}

TEST_CASE("query-hotpluggable-cpus: refused without vCPUs, malformed calls", "[qmp][cpu]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(error(rig, R"({"execute":"query-hotpluggable-cpus"})") ==
          "GenericError: The feature 'query-hotpluggable-cpus' is not enabled");
    rig.vm.possible = two_dies();
    CHECK(error(rig, R"({"execute":"query-hotpluggable-cpus","arguments":{"cpu":1}})") ==
          "GenericError: Parameter 'cpu' is unexpected");
    CHECK(error(rig, R"({"execute":"query-hotpluggable-cpus","arguments":[]})") ==
          "GenericError: QMP input member 'arguments' must be an object");
}

TEST_CASE("device_add of a vCPU: refused as on a machine without CPU hotplug", "[qmp][cpu]") {
    QmpRig rig;
    rig.negotiate();
    rig.vm.possible = two_dies();
    CHECK(error(rig, R"({"execute":"device_add","arguments":{"driver":"qemu64-x86_64-cpu","id":"vcpu1",
                         "socket-id":0,"die-id":1,"core-id":0,"thread-id":0}})") ==
          "GenericError: Device 'qemu64-x86_64-cpu' can not be hotplugged on this machine");
    CHECK(error(rig, R"({"execute":"device_add","arguments":{"driver":"Skylake-Client-x86_64-cpu"}})") ==
          "GenericError: Device 'Skylake-Client-x86_64-cpu' can not be hotplugged on this machine");
    CHECK(error(rig, R"({"execute":"device_add","arguments":{"driver":7}})") ==
          "GenericError: Invalid parameter type for 'driver', expected: string");
    CHECK(error(rig, R"({"execute":"device_add","arguments":{"id":"vcpu1"}})") ==
          "GenericError: Parameter 'driver' is missing");
    CHECK(error(rig, R"({"execute":"device_add","arguments":{"driver":"qemu64-x86_64-cpu","socket-id":[0]}})") ==
          "GenericError: Invalid parameter type for 'socket-id', expected: string");
}

TEST_CASE("schema: device_add's JSON features, query-hotpluggable-cpus's props", "[qmp][cpu]") {
    QmpRig rig;
    rig.negotiate();
    Json schema = reply(rig, R"({"execute":"query-qmp-schema"})")["return"];
    // libvirt 9.0's "device_add/$json-cli-hotplug": QEMU_CAPS_DEVICE_JSON.
    CHECK(schema_entry(schema, "device_add")["features"] == Json::array({"json-cli", "json-cli-hotplug"}));
    CHECK_FALSE(schema_entry(schema, "device_del").contains("features"));
    // "query-hotpluggable-cpus/ret-type/props/die-id": QEMU_CAPS_SMP_DIES.
    std::string list = schema_entry(schema, "query-hotpluggable-cpus")["ret-type"].get<std::string>();
    std::string element = schema_entry(schema, list)["element-type"].get<std::string>();
    std::string props = member_type(schema, element, "props");
    REQUIRE_FALSE(props.empty());
    CHECK(member_type(schema, props, "die-id") == "int");
}
