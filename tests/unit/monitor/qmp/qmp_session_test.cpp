#include "qmp_fakes.h"

#include "kestrel_version.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::qmp;
using namespace kestrel::qmp::test;

namespace {

const std::string kGreeting =
    R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "kestrel )" KESTREL_VERSION
    R"("}, "capabilities": ["oob"]}})" "\r\n";

std::string generic(const std::string& desc) {
    return R"({"error": {"class": "GenericError", "desc": ")" + desc + "\"}}\r\n";
}

} // namespace

TEST_CASE("QMP greets on open with the version and oob", "[qmp]") {
    QmpEventHub hub;
    FakeVm vm(hub);
    QmpServices services{vm, hub, nullptr};
    FakeChardev chr;
    QmpSession session(chr, services, false);
    CHECK(chr.output.empty());
    chr.connect();
    CHECK(chr.take() == kGreeting);
}

TEST_CASE("QMP greets first when input comes before the open event", "[qmp]") {
    QmpEventHub hub;
    FakeVm vm(hub);
    QmpServices services{vm, hub, nullptr};
    FakeChardev chr;
    QmpSession session(chr, services, false);
    chr.type("{\"execute\":\"qmp_capabilities\"}\n");  // read before "opened" was delivered
    chr.connect();
    CHECK(chr.take() == kGreeting + "{\"return\": {}}\r\n");
    chr.disconnect();
    chr.connect();  // a new client is greeted again
    CHECK(chr.take() == kGreeting);
}

TEST_CASE("QMP negotiation comes first, once", "[qmp]") {
    QmpRig rig;
    CHECK(rig.exec(R"({"execute":"query-status"})") ==
          R"({"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}})" "\r\n");
    CHECK(rig.exec(R"({"execute":"qmp_capabilities","id":[1,{"a":null}]})") ==
          R"({"return": {}, "id": [1, {"a": null}]})" "\r\n");
    CHECK(rig.session.negotiated());
    CHECK(rig.exec(R"({"execute":"qmp_capabilities"})") ==
          R"({"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}})" "\r\n");
    CHECK(rig.exec(R"({"execute":"query-status","id":"x"})") ==
          R"({"return": {"status": "prelaunch", "singlestep": false, "running": false}, "id": "x"})" "\r\n");
}

TEST_CASE("QMP qmp_capabilities arguments as QEMU checks them", "[qmp]") {
    QmpRig rig;
    CHECK(rig.exec(R"({"execute":"qmp_capabilities","arguments":{"enable":["foo"]}})") ==
          generic("Parameter 'null' does not accept value 'foo'"));
    CHECK(rig.exec(R"({"execute":"qmp_capabilities","arguments":{"enable":"oob"}})") ==
          generic("Invalid parameter type for 'enable', expected: array"));
    CHECK(rig.exec(R"({"execute":"qmp_capabilities","arguments":{"enable":[1]}})") ==
          generic("Invalid parameter type for 'enable[0]', expected: string"));
    CHECK(!rig.session.negotiated());
    CHECK(rig.exec(R"({"execute":"qmp_capabilities","arguments":{"enable":["oob"]}})") ==
          "{\"return\": {}}\r\n");
    CHECK(rig.exec(R"({"exec-oob":"query-status","id":7})") ==
          R"({"id": 7, "error": {"class": "GenericError", "desc": "The command query-status does not support OOB"}})" "\r\n");
    CHECK(rig.exec(R"({"execute":"x","exec-oob":"y"})") ==
          generic("QMP input member 'execute' clashes with 'exec-oob'"));
}

TEST_CASE("QMP rejects malformed requests with QEMU's texts", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(rig.exec("[1,2]") == generic("QMP input must be a JSON object"));
    CHECK(rig.exec("3") == generic("QMP input must be a JSON object"));
    CHECK(rig.exec(R"({"foo":1})") == generic("QMP input member 'foo' is unexpected"));
    CHECK(rig.exec(R"({"execute":1})") == generic("QMP input member 'execute' must be a string"));
    CHECK(rig.exec(R"({"foo":1,"execute":5})") == generic("QMP input member 'execute' must be a string"));
    CHECK(rig.exec(R"({"id":5})") ==
          R"({"id": 5, "error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}})" "\r\n");
    CHECK(rig.exec(R"({"execute":"query-status","arguments":[]})") ==
          generic("QMP input member 'arguments' must be an object"));
    CHECK(rig.exec(R"({"exec-oob":"nope","id":1})") ==
          R"({"id": 1, "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}})" "\r\n");
    CHECK(rig.exec(R"({"execute":"foo","id":1})") ==
          R"({"id": 1, "error": {"class": "CommandNotFound", "desc": "The command foo has not been found"}})" "\r\n");
    CHECK(rig.exec("{\"a\":}") == generic("JSON parse error, expecting value"));
    CHECK(rig.exec("{\"a\":\"\x01\"}") == generic("JSON parse error, stray '\\\"\\u0001'") +
                                          generic("JSON parse error, expecting value"));
    CHECK(rig.exec(R"({"execute":"query-name","id":1})") == "{\"return\": {}, \"id\": 1}\r\n");
}

TEST_CASE("QMP echoes any id verbatim", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    for (auto [in, out] : std::vector<std::pair<std::string, std::string>>{
             {"\"a/b\\u00e9\"", "\"a/b\\u00E9\""}, {"1.5", "1.5"}, {"-0.0", "-0"}, {"true", "true"},
             {"null", "null"}, {"{\"z\":1,\"b\":[]}", "{\"b\": [], \"z\": 1}"}, {"0.1", "0.10000000000000001"}}) {
        CHECK(rig.exec(R"({"execute":"query-name","id":)" + in + "}") ==
              "{\"return\": {}, \"id\": " + out + "}\r\n");
    }
}

TEST_CASE("QMP framing: split, batched and whitespace-separated input", "[qmp]") {
    QmpRig rig;
    rig.chr.take();
    std::string input = "{\"execute\":\"qmp_capabilities\"}{\"execute\":\"query-target\",\"id\":1}\n\n"
                        "  {\"execute\":\n\"query-name\"}";
    for (char c : input)
        rig.chr.type(std::string(1, c));
    CHECK(rig.chr.take() == "{\"return\": {}}\r\n{\"return\": {\"arch\": \"x86_64\"}, \"id\": 1}\r\n"
                            "{\"return\": {}}\r\n");
}

TEST_CASE("QMP pretty mode indents and ends every line in CRLF", "[qmp]") {
    QmpRig rig(true);
    CHECK(rig.exec(R"({"execute":"qmp_capabilities","id":[]})") ==
          "{\r\n    \"return\": {\r\n    },\r\n    \"id\": [\r\n    ]\r\n}\r\n");
}

TEST_CASE("QMP survives a 1 MiB line and deep nesting", "[qmp]") {
    QmpRig rig;
    rig.negotiate();
    std::string big(1 << 20, 'x');
    CHECK(rig.exec(R"({"execute":"query-name","id":")" + big + "\"}") ==
          "{\"return\": {}, \"id\": \"" + big + "\"}\r\n");
    CHECK(rig.exec(big) == generic("JSON parse error, invalid keyword '" + big + "'"));
    std::string reply = rig.exec(std::string(2000, '{'));
    CHECK(reply == generic("JSON nesting depth limit exceeded"));
    rig.chr.disconnect();   // the next client starts clean
    rig.chr.connect();
    CHECK(rig.chr.take() == kGreeting);
    CHECK(rig.exec(R"({"execute":"query-name"})").find("Expecting capabilities") != std::string::npos);
}

TEST_CASE("QMP events reach only negotiated sessions, with timestamps", "[qmp]") {
    QmpRig rig;
    FakeChardev other;
    QmpSession second(other, rig.services, false);
    other.connect();
    other.take();
    rig.negotiate();
    rig.vm.state = "running";
    auto before = std::time(nullptr);
    std::string reply = rig.exec(R"({"execute":"stop"})");
    auto nl = reply.find("\r\n");
    REQUIRE(nl != std::string::npos);
    std::string event = reply.substr(0, nl);
    CHECK(reply.substr(nl + 2) == "{\"return\": {}}\r\n");   // event first, as QEMU
    auto parsed = nlohmann::json::parse(event);
    CHECK(parsed["event"] == "STOP");
    CHECK(!parsed.contains("data"));
    CHECK(parsed["timestamp"]["seconds"].get<int64_t>() >= before);
    CHECK(parsed["timestamp"]["microseconds"].get<int64_t>() < 1000000);
    CHECK(event.rfind("{\"timestamp\": {\"seconds\": ", 0) == 0);
    CHECK(event.find("}, \"event\": \"STOP\"}") != std::string::npos);
    CHECK(other.take().empty());   // still negotiating
    other.type("{\"execute\":\"qmp_capabilities\"}");
    other.take();
    rig.exec(R"({"execute":"system_reset"})");
    std::string reset = other.take();
    CHECK(reset.find(R"("event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}})" "\r\n") !=
          std::string::npos);
    other.disconnect();
    rig.exec(R"({"execute":"system_powerdown"})");
    CHECK(other.take().empty());
}
