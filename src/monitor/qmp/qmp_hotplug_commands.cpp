// QMP device_add and device_del, query-acpi-ospm-status, and the types of
// the DEVICE_DELETED and ACPI_DEVICE_OST events.
#include "monitor/hotplug_commands.h"
#include "monitor/qmp/qmp_commands.h"

#include <cmath>

namespace kestrel::qmp {

namespace {

// A property value as -device would spell it (QEMU's qemu_opts_from_qdict).
std::string option_text(const std::string& key, const Json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_boolean()) return value.get<bool>() ? "on" : "off";
    if (value.is_number_integer()) return value.dump();
    if (value.is_number_float()) return value.dump();
    throw MonitorError("Invalid parameter type for '" + key + "', expected: string");
}

std::vector<qopts::OptPair> device_options(const Json& args) {
    std::vector<qopts::OptPair> options{{"driver", args.at("driver").get<std::string>()}};
    for (const std::string& key : qemu_key_order(args))
        if (key != "driver") options.push_back({key, option_text(key, args.at(key))});
    return options;
}

Json acpi_ospm_status(const VmControl& vm) {
    std::optional<std::vector<AcpiOstInfo>> slots = vm.acpi_ospm_status();
    if (!slots) throw MonitorError("command is not supported, missing ACPI device");
    Json list = Json::array();
    for (const AcpiOstInfo& info : *slots) list.push_back(acpi_ost_json(info));
    return list;
}

} // namespace

void add_hotplug_commands(QmpCommandTable& table, Schema& schema, QmpServices& services) {
    schema.add_object("q_obj_device_add-arg", {{"driver", "str"}, {"bus", "str", true}, {"id", "str", true}});
    schema.allow_extra_members("q_obj_device_add-arg");  // the device's properties ('gen': false)
    schema.add_object("q_obj_device_del-arg", {{"id", "str"}});
    schema.add_object("q_obj_DEVICE_DELETED-arg", {{"device", "str", true}, {"path", "str"}});
    schema.add_enum("ACPISlotType", {"DIMM", "CPU"});
    schema.add_object("ACPIOSTInfo", {{"device", "str", true}, {"slot", "str"}, {"slot-type", "ACPISlotType"},
                                      {"source", "int"}, {"status", "int"}});
    schema.add_object("q_obj_ACPI_DEVICE_OST-arg", {{"info", "ACPIOSTInfo"}});
    VmControl& vm = services.vm;
    table.add({"device_add", "q_obj_device_add-arg", "q_empty", [&vm](const Json& args) {
        hotplug_device_add(vm, device_options(args));
        return Json::object();
    }, {"json-cli", "json-cli-hotplug"}});
    table.add({"device_del", "q_obj_device_del-arg", "q_empty", [&vm](const Json& args) {
        hotplug_device_del(vm, args.at("id").get<std::string>());
        return Json::object();
    }});
    table.add({"query-acpi-ospm-status", "q_empty", "[ACPIOSTInfo]",
               [&vm](const Json&) { return acpi_ospm_status(vm); }});
}

} // namespace kestrel::qmp
