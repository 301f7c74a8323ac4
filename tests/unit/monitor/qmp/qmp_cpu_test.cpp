// query-cpu-model-expansion (qmp_cpu_commands.cpp) and the vCPUs' QOM
// objects (qmp_qom_cpu.cpp), over the fake machine's Intel host without
// SSE3 and its two qemu64 vCPUs.
#include "qmp_fakes.h"

#include <catch2/catch.hpp>

#include <set>

using namespace kestrel;
using namespace kestrel::qmp;
using namespace kestrel::qmp::test;

namespace {

Json reply(QmpRig& rig, const Json& command) { return Json::parse(rig.exec(command.dump())); }

Json returned(QmpRig& rig, const Json& command) {
    Json r = reply(rig, command);
    REQUIRE(r.contains("return"));
    return r["return"];
}

std::string error(QmpRig& rig, const Json& command) {
    Json r = reply(rig, command);
    REQUIRE(r.contains("error"));
    return r["error"]["class"].get<std::string>() + ": " + r["error"]["desc"].get<std::string>();
}

Json expand(const char* type, Json model) {
    return Json{{"execute", "query-cpu-model-expansion"}, {"arguments", {{"type", type}, {"model", std::move(model)}}}};
}

Json qom(const char* command, Json args) { return Json{{"execute", command}, {"arguments", std::move(args)}}; }

const char* kCpu0 = "/machine/unattached/device[0]";

} // namespace

TEST_CASE("static expansion of host: KVM's flags on the model 'base'", "[qmp][cpu]") {
    QmpRig rig;
    rig.negotiate();
    Json model = returned(rig, expand("static", {{"name", "host"}}))["model"];
    CHECK(model["name"] == "base");
    const Json& props = model["props"];
    CHECK(props["sse2"] == true);
    CHECK(props["pni"] == false);          // this KVM lacks it
    CHECK(props["hypervisor"] == true);    // the VMM adds it
    CHECK(props["invtsc"] == false);       // migratable by default: hidden
    CHECK(props["vendor"] == "GenuineIntel");
    CHECK(props["family"] == 6);
    CHECK(props["model"] == 158);
    CHECK(props["stepping"] == 10);
    CHECK(props["model-id"] == "Fake(R) CPU @ 3.00GHz");
    CHECK(props["min-level"] == 0xd);
    CHECK(props["min-xlevel"] == 0x80000008u);
    CHECK_FALSE(props.contains("sse3"));   // static: QEMU's canonical names only
    CHECK_FALSE(props.contains("migratable"));
    Json unmigratable = returned(rig, expand("static", {{"name", "host"}, {"props", {{"migratable", false}}}}));
    CHECK(unmigratable["model"]["props"]["invtsc"] == true);
}

TEST_CASE("full expansion keeps the model's name and adds aliases, levels, migratable", "[qmp][cpu]") {
    QmpRig rig;
    rig.negotiate();
    Json model = returned(rig, expand("full", {{"name", "max"}, {"props", {{"sse4_1", false}}}}))["model"];
    CHECK(model["name"] == "max");
    CHECK(model["props"]["sse4.1"] == false);
    CHECK(model["props"]["sse4_1"] == false);
    CHECK(model["props"]["sse3"] == false);
    CHECK(model["props"]["level"] == 0xd);
    CHECK(model["props"]["migratable"] == true);
}

TEST_CASE("a named model expands to its own definition, not filtered by the host", "[qmp][cpu]") {
    QmpRig rig;
    rig.negotiate();
    Json props = returned(rig, expand("static", {{"name", "qemu64"}}))["model"]["props"];
    CHECK(props["pni"] == true);        // qemu64 has SSE3 although this KVM has not
    CHECK(props["cx16"] == true);
    CHECK(props["avx"] == false);       // the host's, not qemu64's
    CHECK(props["lahf-lm"] == true);
    CHECK(props["x2apic"] == true);
    CHECK(props["family"] == 15);
    CHECK(props["model"] == 107);
    CHECK(props["model-id"] == "QEMU Virtual CPU version 2.5+");
    Json v1 = returned(rig, expand("static", {{"name", "qemu64-v1"}, {"props", {{"avx", true}, {"cx16", false}}}}));
    CHECK(v1["model"]["props"]["avx"] == true);
    CHECK(v1["model"]["props"]["cx16"] == false);
}

TEST_CASE("query-cpu-model-expansion refuses bad arguments with QEMU's errors", "[qmp][cpu]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(error(rig, expand("static", {{"name", "foo"}})) == "GenericError: CPU model 'foo' not found");
    CHECK(error(rig, expand("static", {{"name", "qemu64-x86_64-cpu"}})) ==
          "GenericError: CPU model 'qemu64-x86_64-cpu' not found");
    CHECK(error(rig, expand("bogus", {{"name", "host"}})) ==
          "GenericError: Parameter 'type' does not accept value 'bogus'");
    CHECK(error(rig, Json{{"execute", "query-cpu-model-expansion"}, {"arguments", {{"type", "static"}}}}) ==
          "GenericError: Parameter 'model' is missing");
    CHECK(error(rig, Json{{"execute", "query-cpu-model-expansion"}, {"arguments", {{"model", {{"name", "host"}}}}}}) ==
          "GenericError: Parameter 'type' is missing");
    CHECK(error(rig, expand("static", {{"name", "host"}, {"props", {{"foo", true}}}})) ==
          "GenericError: Property 'host-x86_64-cpu.foo' not found");
    CHECK(error(rig, expand("static", {{"name", "host"}, {"props", {{"sse2", 5}}}})) ==
          "GenericError: Invalid parameter type for 'sse2', expected: boolean");
    CHECK(error(rig, expand("static", {{"name", "host"}, {"x", 1}})) == "GenericError: Parameter 'model.x' is unexpected");
    CHECK(error(rig, expand("static", {{"name", 5}})) ==
          "GenericError: Invalid parameter type for 'model.name', expected: string");
    CHECK(error(rig, expand("static", 5)) == "GenericError: Invalid parameter type for 'model', expected: object");
}

TEST_CASE("without KVM host and max cannot be expanded, named models can", "[qmp][cpu]") {
    QmpRig rig;
    rig.vm.kvm = false;
    rig.negotiate();
    CHECK(error(rig, expand("static", {{"name", "max"}})) == "GenericError: CPU model 'max' requires KVM");
    CHECK(returned(rig, expand("static", {{"name", "kvm64"}}))["model"]["props"]["family"] == 15);
}

TEST_CASE("query-qmp-schema describes query-cpu-model-expansion", "[qmp][cpu]") {
    QmpRig rig;
    rig.negotiate();
    Json schema = returned(rig, Json{{"execute", "query-qmp-schema"}});
    std::map<std::string, Json> by_name;
    for (const Json& e : schema) by_name[e["name"].get<std::string>()] = e;
    REQUIRE(by_name.count("query-cpu-model-expansion"));
    const Json& command = by_name["query-cpu-model-expansion"];
    const Json& arg = by_name[command["arg-type"].get<std::string>()];
    REQUIRE(arg["members"].size() == 2);
    CHECK(by_name[arg["members"][0]["type"].get<std::string>()]["values"] == Json{"static", "full"});
    CHECK(by_name[command["ret-type"].get<std::string>()]["members"][0]["name"] == "model");
}

TEST_CASE("vCPUs are QOM objects at /machine/unattached/device[N]", "[qmp][cpu][qom]") {
    QmpRig rig;
    rig.negotiate();
    std::set<std::string> names;
    std::map<std::string, std::string> types;
    for (const Json& p : returned(rig, qom("qom-list", {{"path", kCpu0}}))) {
        names.insert(p["name"].get<std::string>());
        types[p["name"].get<std::string>()] = p["type"].get<std::string>();
    }
    CHECK(types["sse2"] == "bool");
    CHECK(types["type"] == "string");
    CHECK(types["feature-words"] == "X86CPUFeatureWordInfo");
    CHECK(types["unavailable-features"] == "strList");
    CHECK(types["family"] == "int");
    CHECK_FALSE(names.count("migratable"));  // host and max only
    auto get = [&](const char* path, const char* property) {
        return returned(rig, qom("qom-get", {{"path", path}, {"property", property}}));
    };
    CHECK(get(kCpu0, "type") == "qemu64-x86_64-cpu");
    CHECK(get("device[1]", "type") == "qemu64-x86_64-cpu");
    CHECK(get(kCpu0, "sse2") == true);
    CHECK(get(kCpu0, "pni") == false);   // qemu64 asks for it, KVM lacks it
    CHECK(get(kCpu0, "sse3") == false);
    CHECK(get(kCpu0, "avx") == false);
    CHECK(get(kCpu0, "unavailable-features") == Json::array({"pni"}));
    CHECK(get(kCpu0, "family") == 15);
    CHECK(get(kCpu0, "model") == 107);
    CHECK(get(kCpu0, "model-id") == "QEMU Virtual CPU version 2.5+");
    CHECK(get("device[1]", "apic-id") == 1);
    CHECK(get("device[1]", "socket-id") == 1);
}

TEST_CASE("a vCPU's feature-words and filtered-features", "[qmp][cpu][qom]") {
    QmpRig rig;
    rig.negotiate();
    auto word = [&](const char* property, uint32_t leaf, const char* reg) {
        for (const Json& w : returned(rig, qom("qom-get", {{"path", kCpu0}, {"property", property}})))
            if (w["cpuid-input-eax"] == leaf && w["cpuid-register"] == reg) return w;
        return Json();
    };
    Json edx1 = word("feature-words", 1, "EDX");
    REQUIRE(edx1.is_object());
    CHECK((edx1["features"].get<uint32_t>() & (1u << 26)) != 0);  // sse2
    CHECK_FALSE(edx1.contains("cpuid-input-ecx"));
    CHECK(word("feature-words", 7, "EBX")["cpuid-input-ecx"] == 0);
    CHECK(word("filtered-features", 1, "ECX")["features"] == 1);     // pni
    CHECK(word("filtered-features", 1, "EDX")["features"] == 0);
}

TEST_CASE("vCPU QOM errors are QEMU's", "[qmp][cpu][qom]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(error(rig, qom("qom-get", {{"path", kCpu0}, {"property", "nope"}})) ==
          "GenericError: Property 'qemu64-x86_64-cpu.nope' not found");
    CHECK(error(rig, qom("qom-get", {{"path", "/machine/unattached/device[2]"}, {"property", "type"}})) ==
          "DeviceNotFound: Device '/machine/unattached/device[2]' not found");
    CHECK(error(rig, qom("qom-get", {{"path", kCpu0}})) == "GenericError: Parameter 'property' is missing");
    CHECK(error(rig, qom("qom-list", {{"path", 0}})) ==
          "GenericError: Invalid parameter type for 'path', expected: string");
    CHECK(error(rig, qom("qom-set", {{"path", kCpu0}, {"property", "sse2"}, {"value", false}})) ==
          "GenericError: Attempt to set property 'sse2' on anonymous device (type 'qemu64-x86_64-cpu') after it "
          "was realized");
    CHECK(error(rig, qom("qom-set", {{"path", kCpu0}, {"property", "nope"}, {"value", false}})) ==
          "GenericError: Property 'qemu64-x86_64-cpu.nope' not found");
    CHECK(error(rig, qom("qom-set", {{"path", kCpu0}, {"property", "type"}, {"value", "x"}})) ==
          "GenericError: Property 'qemu64-x86_64-cpu.type' is not writable");
}

TEST_CASE("a host vCPU has migratable and what KVM gives", "[qmp][cpu][qom]") {
    QmpRig rig;
    rig.vm.cpu.model = "host";
    rig.vm.cpu.features = {{"migratable", false}, {"pni", true}};
    rig.negotiate();
    CHECK(returned(rig, qom("qom-get", {{"path", kCpu0}, {"property", "type"}})) == "host-x86_64-cpu");
    CHECK(returned(rig, qom("qom-get", {{"path", kCpu0}, {"property", "migratable"}})) == false);
    CHECK(returned(rig, qom("qom-get", {{"path", kCpu0}, {"property", "invtsc"}})) == true);
    CHECK(returned(rig, qom("qom-get", {{"path", kCpu0}, {"property", "unavailable-features"}})) ==
          Json::array({"pni"}));
}
