// The commands libvirt's capability probe sends (qmp_probe_commands.cpp).
#include "qmp_fakes.h"

#include <catch2/catch.hpp>

#include <set>

using namespace kestrel;
using namespace kestrel::qmp;
using namespace kestrel::qmp::test;

namespace {

Json returned(QmpRig& rig, const std::string& request) {
    Json reply = Json::parse(rig.exec(request));
    REQUIRE(reply.contains("return"));
    return reply["return"];
}

std::set<std::string> names(const Json& list, const char* key = "name") {
    std::set<std::string> out;
    for (const Json& e : list) out.insert(e[key].get<std::string>());
    return out;
}

} // namespace

TEST_CASE("query-command-line-options lists kestrel's option groups and their keys", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    Json all = returned(rig, R"({"execute":"query-command-line-options"})");
    std::set<std::string> options = names(all, "option");
    CHECK(options.count("sandbox"));
    CHECK(options.count("boot-opts"));
    CHECK(options.count("drive"));
    CHECK_FALSE(options.count("spice"));   // kestrel has none: libvirt must not think so
    CHECK_FALSE(options.count("fsdev"));
    Json sandbox = returned(rig, R"({"execute":"query-command-line-options","arguments":{"option":"sandbox"}})");
    REQUIRE(sandbox.size() == 1);
    CHECK(names(sandbox[0]["parameters"]).count("elevateprivileges"));
    CHECK(rig.exec(R"({"execute":"query-command-line-options","arguments":{"option":"spice"}})") ==
          R"({"error": {"class": "GenericError", "desc": "invalid option name: spice"}})" "\r\n");
}

TEST_CASE("qom-list-properties: devices, machines, CPU features; DeviceNotFound otherwise", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(names(returned(rig, R"({"execute":"qom-list-properties","arguments":{"typename":"isa-debug-exit"}})")) ==
          std::set<std::string>{"iobase", "iosize"});
    CHECK(names(returned(rig, R"({"execute":"qom-list-properties","arguments":{"typename":"pc-i440fx-7.2-machine"}})"))
              .count("usb"));
    Json cpu = returned(rig, R"({"execute":"qom-list-properties","arguments":{"typename":"max-x86_64-cpu"}})");
    CHECK(names(cpu).count("sse4.1"));
    CHECK(cpu[0]["type"] == "bool");
    CHECK(names(cpu).count("migratable"));   // libvirt's cpu.migratable: host-passthrough migratable='on'
    CHECK_FALSE(names(returned(rig, R"({"execute":"qom-list-properties","arguments":{"typename":"qemu64-x86_64-cpu"}})"))
                    .count("migratable"));
    // libvirt asks max-x86_64-cpu's properties only when qom-list-types lists it.
    Json cpus = returned(rig, R"({"execute":"qom-list-types","arguments":{"implements":"x86_64-cpu"}})");
    CHECK(names(cpus) == std::set<std::string>{"max-x86_64-cpu", "host-x86_64-cpu", "qemu64-x86_64-cpu",
                                               "qemu64-v1-x86_64-cpu", "kvm64-x86_64-cpu", "kvm64-v1-x86_64-cpu"});
    CHECK(rig.exec(R"({"execute":"qom-list-properties","arguments":{"typename":"sev-guest"}})") ==
          R"({"error": {"class": "DeviceNotFound", "desc": "Class 'sev-guest' not found"}})" "\r\n");
    CHECK(rig.exec(R"({"execute":"qom-list-properties","arguments":{}})").find("Parameter 'typename' is missing") !=
          std::string::npos);
}

TEST_CASE("device-list-properties gives an enum property's default as its name", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    // It once took LostTickPolicy for an integer, and the throw ended kestrel.
    CHECK(rig.exec(R"({"execute":"device-list-properties","arguments":{"typename":"kvm-pit"}})")
              .find(R"({"default-value": "delay", "name": "lost_tick_policy", "type": "LostTickPolicy"})") !=
          std::string::npos);
}

TEST_CASE("CPU models, TPM and migration as kestrel has them", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    Json defs = returned(rig, R"({"execute":"query-cpu-definitions"})");
    CHECK(names(defs) == std::set<std::string>{"host", "max", "qemu64", "qemu64-v1", "kvm64", "kvm64-v1"});
    for (const Json& d : defs) CHECK_FALSE(d.contains("unavailable-features"));  // no usability information
    CHECK(returned(rig, R"({"execute":"query-tpm-models"})") == Json::array());
    CHECK(returned(rig, R"({"execute":"query-tpm-types"})") == Json::array());
    // No migration: the one capability is "events", which libvirt sets at every start.
    Json caps = returned(rig, R"({"execute":"query-migrate-capabilities"})");
    REQUIRE(caps.size() == 1);
    CHECK(caps[0]["capability"] == "events");
    CHECK(caps[0]["state"] == false);
    CHECK(returned(rig, R"({"execute":"migrate-set-capabilities","arguments":{"capabilities":[)"
                        R"({"capability":"events","state":true}]}})") == Json::object());
    CHECK(returned(rig, R"({"execute":"query-migrate-capabilities"})")[0]["state"] == true);
    Json refused = Json::parse(rig.exec(R"({"execute":"migrate-set-capabilities","arguments":{"capabilities":[)"
                                        R"({"capability":"foo","state":true}]}})"));
    CHECK(refused["error"]["desc"].get<std::string>().ends_with("does not accept value 'foo'"));
    CHECK(returned(rig, R"({"execute":"migrate-set-capabilities","arguments":{"capabilities":[)"
                        R"({"capability":"events","state":false}]}})") == Json::object());
    CHECK(returned(rig, R"({"execute":"query-kvm"})") == Json{{"enabled", true}, {"present", true}});
}

TEST_CASE("query-jobs and query-block-jobs: empty lists (libvirt's reconnect asks for query-jobs)", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(rig.exec(R"({"execute":"query-jobs"})") == R"({"return": []})" "\r\n");
    CHECK(rig.exec(R"({"execute":"query-block-jobs"})") == R"({"return": []})" "\r\n");
}
