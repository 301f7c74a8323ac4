// query-acpi-ospm-status over the fake machine's _OST slots (QEMU's
// ACPIOSTInfo: device only when the slot's device has an id), its error
// without an ACPI device, the ACPI_DEVICE_OST event through a session, and
// both in the introspection libvirt reads (query-qmp-schema, query-commands,
// query-events).
#include "qmp_fakes.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::qmp;
using namespace kestrel::qmp::test;

namespace {

Json reply(QmpRig& rig, const std::string& command) { return Json::parse(rig.exec(command)); }

Json schema_entry(const Json& schema, const std::string& name) {
    for (const Json& e : schema)
        if (e["name"] == name) return e;
    FAIL("no schema entry " << name);
    return {};
}

// Equal as JSON values, whatever the members' order (replies come in QEMU's).
bool same(const Json& value, const std::string& expected) {
    return nlohmann::json::parse(value.dump()) == nlohmann::json::parse(expected);
}

bool listed(const Json& list, const std::string& name) {
    for (const Json& e : list)
        if (e["name"] == name) return true;
    return false;
}

} // namespace

TEST_CASE("query-acpi-ospm-status: every slot's last _OST, device only with an id", "[qmp][acpi-ost]") {
    QmpRig rig;
    rig.negotiate();
    rig.vm.ospm = std::vector<AcpiOstInfo>{{"", "0", "CPU", 0, 0}, {"cpu1", "1", "CPU", 3, 0x81},
                                           {"", "2", "CPU", 0xffffffff, 0x80}};
    Json r = reply(rig, R"({"execute":"query-acpi-ospm-status"})");
    CHECK(same(r["return"], R"([{"slot": "0", "slot-type": "CPU", "source": 0, "status": 0},
        {"device": "cpu1", "slot": "1", "slot-type": "CPU", "source": 3, "status": 129},
        {"slot": "2", "slot-type": "CPU", "source": 4294967295, "status": 128}])"));
    rig.vm.ospm = std::vector<AcpiOstInfo>{};  // PIIX4 before the guest's _INI
    CHECK(reply(rig, R"({"execute":"query-acpi-ospm-status"})")["return"] == Json::array());
}

TEST_CASE("query-acpi-ospm-status: refused without an ACPI device, as QEMU's none machine", "[qmp][acpi-ost]") {
    QmpRig rig;
    rig.negotiate();
    Json r = reply(rig, R"({"execute":"query-acpi-ospm-status"})");
    CHECK(r["error"] == Json{{"class", "GenericError"}, {"desc", "command is not supported, missing ACPI device"}});
    r = reply(rig, R"({"execute":"query-acpi-ospm-status","arguments":{"x":1}})");
    CHECK(r["error"]["desc"] == "Parameter 'x' is unexpected");
}

TEST_CASE("ACPI_DEVICE_OST reaches a negotiated client with its info", "[qmp][acpi-ost]") {
    QmpRig rig;
    rig.negotiate();
    rig.chr.take();
    rig.hub.emit_event("ACPI_DEVICE_OST", {{"info", nlohmann::json(acpi_ost_json({"cpu1", "1", "CPU", 1, 0}))}});
    Json event = Json::parse(rig.chr.take());
    CHECK(event["event"] == "ACPI_DEVICE_OST");
    CHECK(same(event["data"], R"({"info": {"device": "cpu1", "slot": "1", "slot-type": "CPU",
        "source": 1, "status": 0}})"));
    CHECK(event["timestamp"].contains("seconds"));
}

TEST_CASE("query-acpi-ospm-status and ACPI_DEVICE_OST in the introspection", "[qmp][acpi-ost]") {
    QmpRig rig;
    rig.negotiate();
    CHECK(listed(reply(rig, R"({"execute":"query-commands"})")["return"], "query-acpi-ospm-status"));
    CHECK(listed(reply(rig, R"({"execute":"query-events"})")["return"], "ACPI_DEVICE_OST"));
    Json schema = reply(rig, R"({"execute":"query-qmp-schema"})")["return"];
    Json command = schema_entry(schema, "query-acpi-ospm-status");
    CHECK(command["ret-type"] == "[ACPIOSTInfo]");
    CHECK(schema_entry(schema, "[ACPIOSTInfo]")["element-type"] == "ACPIOSTInfo");
    Json event = schema_entry(schema, "ACPI_DEVICE_OST");
    CHECK(event["meta-type"] == "event");
    CHECK(schema_entry(schema, event["arg-type"])["members"] == Json::parse(R"([{"name": "info", "type": "ACPIOSTInfo"}])"));
    CHECK(schema_entry(schema, "ACPIOSTInfo")["members"] == Json::parse(R"([{"name": "device", "default": null, "type": "str"},
        {"name": "slot", "type": "str"}, {"name": "slot-type", "type": "ACPISlotType"},
        {"name": "source", "type": "int"}, {"name": "status", "type": "int"}])"));
    CHECK(schema_entry(schema, "ACPISlotType")["values"] == Json::parse(R"(["DIMM", "CPU"])"));
}
