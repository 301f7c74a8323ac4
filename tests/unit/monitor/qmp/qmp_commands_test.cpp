#include "qmp_fakes.h"

#include "kestrel_version.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <unistd.h>

using namespace kestrel;
using namespace kestrel::qmp;
using namespace kestrel::qmp::test;

namespace {

// The reply as a value (ordered as printed), after checking its framing.
nlohmann::ordered_json reply_of(QmpRig& rig, const std::string& request) {
    std::string text = rig.exec(request);
    REQUIRE(text.size() >= 2);
    REQUIRE(text.substr(text.size() - 2) == "\r\n");
    return nlohmann::ordered_json::parse(text.substr(0, text.size() - 2));
}

std::string error_desc(QmpRig& rig, const std::string& request, const char* cls = "GenericError") {
    auto r = reply_of(rig, request);
    REQUIRE(r.contains("error"));
    CHECK(r["error"]["class"] == cls);
    return r["error"]["desc"];
}

std::string temp_path(const char* name) {
    return "/tmp/kestrel-qmp-test-" + std::to_string(::getpid()) + "-" + name;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

} // namespace

TEST_CASE("QMP checks arguments as QEMU's visitor", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(error_desc(rig, R"({"execute":"query-status","arguments":{"x":1}})") == "Parameter 'x' is unexpected");
    CHECK(error_desc(rig, R"({"execute":"human-monitor-command","arguments":{"command-line":5}})") ==
          "Invalid parameter type for 'command-line', expected: string");
    CHECK(error_desc(rig, R"({"execute":"human-monitor-command","arguments":{}})") ==
          "Parameter 'command-line' is missing");
    CHECK(error_desc(rig, R"({"execute":"human-monitor-command","arguments":{"command-line":"x","cpu-index":1.5}})") ==
          "Invalid parameter type for 'cpu-index', expected: integer");
    CHECK(error_desc(rig, R"({"execute":"pmemsave","arguments":{"val":18446744073709551615,"size":0,"filename":"f"}})") ==
          "Invalid parameter type for 'val', expected: integer");
    // Type and missing errors come before unexpected ones.
    CHECK(error_desc(rig, R"({"execute":"pmemsave","arguments":{"zz":1,"val":0,"size":0}})") ==
          "Parameter 'filename' is missing");
    CHECK(error_desc(rig, R"({"execute":"nope","arguments":{"x":1}})", "CommandNotFound") ==
          "The command nope has not been found");
}

TEST_CASE("QMP query commands answer in QEMU's shapes", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(rig.exec(R"({"execute":"query-version"})") ==
          R"({"return": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "kestrel )" KESTREL_VERSION "\"}}\r\n");
    CHECK(rig.exec(R"({"execute":"query-name"})") == "{\"return\": {}}\r\n");
    rig.vm.guest_name = "g1";
    CHECK(rig.exec(R"({"execute":"query-name"})") == "{\"return\": {\"name\": \"g1\"}}\r\n");
    CHECK(rig.exec(R"({"execute":"query-uuid"})") ==
          "{\"return\": {\"UUID\": \"4f0a51c8-2b7a-4c55-9d0e-6a1b2c3d4e5f\"}}\r\n");
    CHECK(rig.exec(R"({"execute":"query-kvm"})") == "{\"return\": {\"enabled\": true, \"present\": true}}\r\n");
    CHECK(rig.exec(R"({"execute":"query-target"})") == "{\"return\": {\"arch\": \"x86_64\"}}\r\n");
    CHECK(rig.exec(R"({"execute":"query-chardev"})") ==
          "{\"return\": [{\"frontend-open\": true, \"filename\": \"fake\", \"label\": \"qmp0\"}]}\r\n");
    CHECK(rig.exec(R"({"execute":"query-cpus-fast"})") ==
          R"({"return": [{"thread-id": 1000, "props": {"core-id": 0, "thread-id": 0, "socket-id": 0}, )"
          R"("qom-path": "/machine/unattached/device[0]", "cpu-index": 0, "target": "x86_64"}, )"
          R"({"thread-id": 1001, "props": {"core-id": 0, "thread-id": 0, "socket-id": 1}, )"
          R"("qom-path": "/machine/unattached/device[1]", "cpu-index": 1, "target": "x86_64"}]})" "\r\n");
}

TEST_CASE("QMP query-pci, query-machines, query-commands, query-events", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    auto pci = reply_of(rig, R"({"execute":"query-pci"})")["return"];
    REQUIRE(pci.size() == 1);
    CHECK(pci[0]["bus"] == 0);
    REQUIRE(pci[0]["devices"].size() == 2);
    auto ide = pci[0]["devices"][1];
    CHECK(ide["class_info"] == nlohmann::ordered_json{{"class", 257}, {"desc", "IDE controller"}});
    CHECK(ide["id"]["vendor"] == 0x8086);
    CHECK(ide["id"]["device"] == 0x7010);
    CHECK(ide["irq"] == 11);
    CHECK(ide["irq_pin"] == 1);
    CHECK(ide["qdev_id"] == "");
    CHECK(ide["regions"][0].dump() == R"({"bar":4,"size":16,"address":49152,"type":"io"})");
    CHECK(ide["regions"][1]["mem_type_64"] == true);
    CHECK(ide["regions"][1]["prefetch"] == true);
    CHECK(!pci[0]["devices"][0].contains("irq"));

    auto machines = reply_of(rig, R"({"execute":"query-machines"})")["return"];
    bool found_default = false;
    for (const auto& m : machines) {
        if (m["name"] == "pc-i440fx-7.2") {
            found_default = true;
            CHECK(m["alias"] == "pc");
            CHECK(m["is-default"] == true);
            CHECK(m["cpu-max"] == 255);
        } else {
            CHECK(!m.contains("alias"));
        }
        if (m["name"] == "pc-i440fx-1.4")
            CHECK(m["deprecated"] == true);
    }
    CHECK(found_default);
    CHECK(machines.size() == 32);   // pc-i440fx-1.4 .. 7.2 and none
    CHECK(machines.back()["name"] == "none");
    CHECK(machines.back()["cpu-max"] == 1);

    auto commands = reply_of(rig, R"({"execute":"query-commands"})")["return"];
    std::set<std::string> names;
    for (const auto& c : commands)
        names.insert(c["name"]);
    for (const char* n : {"qmp_capabilities", "query-status", "quit", "human-monitor-command", "pmemsave",
                          "memsave", "query-qmp-schema", "query-pci", "cont", "stop"})
        CHECK(names.count(n));
    CHECK(rig.exec(R"({"execute":"query-events"})") ==
          R"({"return": [{"name": "SHUTDOWN"}, {"name": "POWERDOWN"}, {"name": "RESET"}, {"name": "STOP"}, {"name": "RESUME"}, )"
          R"({"name": "GUEST_PANICKED"}, {"name": "GUEST_CRASHLOADED"}, {"name": "BALLOON_CHANGE"}, {"name": "NIC_RX_FILTER_CHANGED"}, )"
          R"({"name": "DEVICE_TRAY_MOVED"}, {"name": "DEVICE_DELETED"}, {"name": "VSERPORT_CHANGE"}, {"name": "ACPI_DEVICE_OST"}, )"
          R"({"name": "DUMP_COMPLETED"}, {"name": "VNC_CONNECTED"}, {"name": "VNC_INITIALIZED"}, {"name": "VNC_DISCONNECTED"}]})" "\r\n");
}

TEST_CASE("QMP lifecycle commands go through VmControl", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(rig.exec(R"({"execute":"cont"})").find("\"event\": \"RESUME\"}\r\n{\"return\": {}}\r\n") != std::string::npos);
    CHECK(reply_of(rig, R"({"execute":"query-status"})")["return"]["running"] == true);
    rig.vm.state = "shutdown";
    CHECK(error_desc(rig, R"({"execute":"cont"})") == "Resetting the Virtual Machine is required");
    std::string quit = rig.exec(R"({"execute":"quit","id":9})");
    CHECK(rig.vm.quit_called);
    CHECK(quit.find(R"("event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}})" "\r\n"
                    R"({"return": {}, "id": 9})" "\r\n") != std::string::npos);
}

TEST_CASE("QMP human-monitor-command runs HMP lines", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(rig.exec(R"({"execute":"human-monitor-command","arguments":{"command-line":"info status"}})") ==
          "{\"return\": \"ran info status\\r\\n\"}\r\n");
    CHECK(!rig.hmp_cpu);
    reply_of(rig, R"({"execute":"human-monitor-command","arguments":{"command-line":"info registers","cpu-index":1}})");
    CHECK(rig.hmp_cpu == 1u);
    CHECK(error_desc(rig, R"({"execute":"human-monitor-command","arguments":{"command-line":"x","cpu-index":5}})") ==
          "Parameter 'cpu-index' expects a CPU number");
    CHECK(rig.hmp_lines.size() == 2);
}

TEST_CASE("QMP pmemsave and memsave write guest memory to files", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    std::string path = temp_path("pmem");
    CHECK(rig.exec(R"({"execute":"pmemsave","arguments":{"val":4096,"size":5000,"filename":")" + path + "\"}}") ==
          "{\"return\": {}}\r\n");
    std::string data = read_file(path);
    REQUIRE(data.size() == 5000);
    CHECK(std::equal(data.begin(), data.end(), rig.vm.ram.begin() + 4096,
                     [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; }));
    CHECK(error_desc(rig, R"({"execute":"pmemsave","arguments":{"val":65000,"size":1000,"filename":")" + path + "\"}}") ==
          "Invalid addr 0x000000000000fde8/size 1000 specified");
    CHECK(error_desc(rig, R"({"execute":"pmemsave","arguments":{"val":0,"size":1,"filename":"/nonexistent/x"}})") ==
          "Could not open '/nonexistent/x': No such file or directory");

    CHECK(rig.exec(R"({"execute":"memsave","arguments":{"val":8192,"size":16,"filename":")" + path +
                   R"(","cpu-index":1}})") == "{\"return\": {}}\r\n");
    CHECK(rig.vm.last_virtual_cpu == 1);
    data = read_file(path);
    REQUIRE(data.size() == 16);
    CHECK(static_cast<uint8_t>(data[0]) == rig.vm.ram[4096]);
    CHECK(error_desc(rig, R"({"execute":"memsave","arguments":{"val":0,"size":16,"filename":"f","cpu-index":3}})") ==
          "Parameter 'cpu-index' expects a CPU number");
    std::remove(path.c_str());
}

TEST_CASE("QMP query-qmp-schema is well-formed SchemaInfo", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    auto schema = reply_of(rig, R"({"execute":"query-qmp-schema"})")["return"];
    std::map<std::string, nlohmann::ordered_json> by_name;
    for (const auto& e : schema) {
        REQUIRE(e.contains("name"));
        REQUIRE(e.contains("meta-type"));
        CHECK(by_name.emplace(e["name"].get<std::string>(), e).second);   // unique
    }
    auto defined = [&](const std::string& n) { return by_name.count(n) == 1; };
    for (const auto& [name, e] : by_name) {
        std::string meta = e["meta-type"];
        if (meta == "command") {
            CHECK(defined(e["arg-type"]));
            CHECK(defined(e["ret-type"]));
        } else if (meta == "event") {
            CHECK(defined(e["arg-type"]));
        } else if (meta == "object") {
            for (const auto& m : e["members"])
                CHECK(defined(m["type"]));
        } else if (meta == "array") {
            CHECK(defined(e["element-type"]));
        } else if (meta == "enum") {
            CHECK(e["values"].size() == e["members"].size());
        } else {
            CHECK(meta == "builtin");
            CHECK(e.contains("json-type"));
        }
    }
    auto pmemsave = by_name.at("pmemsave");
    CHECK(by_name.at(pmemsave["arg-type"])["members"].dump() ==
          R"([{"name":"val","type":"int"},{"name":"size","type":"int"},{"name":"filename","type":"str"}])");
    CHECK(by_name.at("query-status")["ret-type"] == "StatusInfo");
    CHECK(by_name.at("SHUTDOWN")["meta-type"] == "event");
    CHECK(by_name.count("query-commands"));
    CHECK(by_name.count("int"));
}

TEST_CASE("qom-list-types and device-list-properties read the device table", "[qmp]") {
    QmpRig rig;
    rig.exec(R"({"execute":"qmp_capabilities"})");
    Json isa = Json::parse(rig.exec(R"({"execute":"qom-list-types","arguments":{"implements":"isa-device"}})"))["return"];
    std::vector<std::string> names;
    for (const Json& t : isa) {
        names.push_back(t["name"]);
        CHECK(t["parent"] == "isa-device");
        CHECK_FALSE(t.contains("abstract"));
    }
    CHECK(std::find(names.begin(), names.end(), "isa-serial") != names.end());
    CHECK(std::find(names.begin(), names.end(), "virtio-blk-pci") == names.end());
    Json all = Json::parse(rig.exec(R"({"execute":"qom-list-types","arguments":{"abstract":true}})"))["return"];
    bool abstract_pci = false;
    for (const Json& t : all) abstract_pci |= t["name"] == "pci-device" && t.value("abstract", false);
    CHECK(abstract_pci);

    CHECK(rig.exec(R"({"execute":"device-list-properties","arguments":{"typename":"isa-debug-exit"}})") ==
          R"({"return": [{"default-value": 1281, "name": "iobase", "type": "uint32"}, )"
          R"({"default-value": 2, "name": "iosize", "type": "uint32"}]})" "\r\n");
    Json blk = Json::parse(rig.exec(R"({"execute":"device-list-properties","arguments":{"typename":"virtio-blk"}})"));
    CHECK(blk["return"].size() == 9);  // with romfile, romsize, rombar
    CHECK(rig.exec(R"({"execute":"device-list-properties","arguments":{"typename":"e1000x"}})") ==
          R"({"error": {"class": "DeviceNotFound", "desc": "Device 'e1000x' not found"}})" "\r\n");
    CHECK(rig.exec(R"({"execute":"device-list-properties","arguments":{"typename":"pci-device"}})") ==
          R"({"error": {"class": "GenericError", "desc": "Parameter 'typename' expects a non-abstract device type"}})" "\r\n");
}
