// What tools ask to learn what the emulator can do (libvirt's capability
// probe): command-line options, QOM class properties, CPU models, and the
// features kestrel lacks, answered as QEMU 7.2 answers without them
// (empty lists: no TPM).
#include "config/command_line_options.h"
#include "config/cpu_features.h"
#include "devices/device_types.h"
#include "monitor/qmp/qmp_commands.h"
#include "monitor/qmp/qmp_qom_cpu.h"

namespace kestrel::qmp {

namespace {

Json query_command_line_options(const Json& args) {
    Json wanted = optional_arg(args, "option");
    Json list = Json::array();
    for (const CommandLineOptionInfo& info : command_line_options()) {
        if (wanted.is_string() && wanted.get<std::string>() != info.option) continue;
        Json params = Json::array();
        for (const CommandLineParameter& p : info.parameters)
            params.push_back(Json{{"name", p.name}, {"type", p.type}});
        list.push_back(Json{{"option", info.option}, {"parameters", std::move(params)}});
    }
    if (wanted.is_string() && list.empty())
        throw MonitorError("invalid option name: " + wanted.get<std::string>());
    return list;
}

// The CPU models -cpu accepts; each also as its version 1, as QEMU names them.
constexpr std::string_view kCpuModels[] = {"host", "max", "qemu64", "kvm64"};

bool is_cpu_class(const std::string& name) {
    for (std::string_view model : kCpuModels) {
        if (name == std::string(model) + "-x86_64-cpu" || name == std::string(model) + "-v1-x86_64-cpu")
            return true;
    }
    return false;
}

// No usability information: kestrel does not compare a model with the
// host here, so "unavailable-features" is absent as QAPI allows.
Json query_cpu_definitions() {
    Json list = Json::array();
    for (std::string_view model : kCpuModels) {
        std::string name(model);
        bool versioned = name == "qemu64" || name == "kvm64";
        Json def = Json{{"name", name}, {"typename", name + "-x86_64-cpu"}, {"static", false},
                        {"migration-safe", versioned}, {"deprecated", false}};
        if (versioned) def["alias-of"] = name + "-v1";
        list.push_back(std::move(def));
        if (versioned)
            list.push_back(Json{{"name", name + "-v1"}, {"typename", name + "-v1-x86_64-cpu"},
                                {"static", false}, {"migration-safe", true}, {"deprecated", false}});
    }
    return list;
}

Json device_properties(const DeviceType& type) {
    Json list = Json::array();
    for (const PropertySpec* spec : type.all_properties()) {
        Json p = Json{{"name", spec->name}, {"type", prop_type_name(spec->type)}};
        if (!spec->description.empty()) p["description"] = spec->description;
        list.push_back(std::move(p));
    }
    return list;
}

struct ObjectClassProperty {
    std::string_view owner;  // "memory-backend" (all three), a backend type, or "secret"
    std::string_view name, type, description;
};

// The -object properties kestrel takes (QEMU 7.2's names, types and
// descriptions); QEMU's others (policy, host-nodes, prealloc-context,
// pmem) kestrel refuses, so they are not offered.
constexpr ObjectClassProperty kObjectProperties[] = {
    {"memory-backend", "share", "bool", "Mark the memory as private to QEMU or shared"},
    {"memory-backend", "size", "int", "Size of the memory region (ex: 500M)"},
    {"memory-backend", "dump", "bool", "Set to 'off' to exclude from core dump"},
    {"memory-backend", "prealloc-threads", "int", "Number of CPU threads to use for prealloc"},
    {"memory-backend", "x-use-canonical-path-for-ramblock-id", "bool", ""},
    {"memory-backend", "prealloc", "bool", "Preallocate memory"},
    {"memory-backend", "reserve", "bool", "Reserve swap space (or huge pages) if applicable"},
    {"memory-backend", "merge", "bool", "Mark memory as mergeable"},
    {"memory-backend-file", "mem-path", "string", ""},
    {"memory-backend-file", "discard-data", "bool", ""},
    {"memory-backend-file", "align", "int", ""},
    {"memory-backend-file", "readonly", "bool", ""},
    {"memory-backend-memfd", "hugetlb", "bool", "Use huge pages"},
    {"memory-backend-memfd", "seal", "bool", "Seal growing & shrinking"},
    {"secret", "iv", "string", ""},
    {"secret", "keyid", "string", ""},
    {"secret", "format", "QCryptoSecretFormat", ""},
    {"secret", "file", "string", ""},
    {"secret", "data", "string", ""},
};

Json object_properties(const std::string& type) {
    Json list = Json::array({Json{{"name", "type"}, {"type", "string"}}});
    bool backend = type.starts_with("memory-backend-");
    if (backend && type != "memory-backend-ram" && type != "memory-backend-file" && type != "memory-backend-memfd")
        throw MonitorError(QmpErrorClass::DeviceNotFound, "Class '" + type + "' not found");
    for (const ObjectClassProperty& p : kObjectProperties) {
        if (p.owner != type && !(backend && p.owner == "memory-backend")) continue;
        Json prop{{"name", p.name}, {"type", p.type}};
        if (!p.description.empty()) prop["description"] = p.description;
        list.push_back(std::move(prop));
    }
    return list;
}

// The class properties kestrel's command line sets: a device's, the
// machines' (-machine), a CPU model's features (-cpu model,feat=on).
Json qom_list_properties(const Json& args) {
    std::string name = args.at("typename").get<std::string>();
    if (const DeviceType* type = find_device_type(name)) return device_properties(*type);
    Json list = Json::array();
    if (name == "none-machine") {
        list.push_back(Json{{"name", "type"}, {"type", "string"}});
        return list;
    }
    if (name == "pc-machine" || (name.starts_with("pc-i440fx-") && name.ends_with("-machine"))) {
        list.push_back(Json{{"name", "type"}, {"type", "string"}});
        list.push_back(Json{{"name", "usb"}, {"type", "bool"}, {"description", "Set on/off to enable/disable usb"}});
        return list;
    }
    if (is_cpu_class(name)) {
        for (std::string_view flag : cpuid_flag_names()) list.push_back(Json{{"name", flag}, {"type", "bool"}});
        // host and max only: libvirt then writes migratable=on|off for host-passthrough.
        if (name.starts_with("host-") || name.starts_with("max-"))
            list.push_back(Json{{"name", "migratable"}, {"type", "bool"}});
        // "unavailable-features" tells libvirt to read a started vCPU's
        // flags with qom-list/qom-get (qmp_qom_cpu.cpp), as with QEMU.
        append_cpu_properties(list);
        return list;
    }
    if (name.starts_with("memory-backend-") || name == "secret") return object_properties(name);
    throw MonitorError(QmpErrorClass::DeviceNotFound, "Class '" + name + "' not found");
}

void add_probe_types(Schema& s) {
    s.add_enum("CommandLineParameterType", {"string", "boolean", "number", "size"});
    s.add_object("CommandLineParameterInfo", {{"name", "str"}, {"type", "CommandLineParameterType"},
                                              {"help", "str", true}, {"default", "str", true}});
    s.add_object("CommandLineOptionInfo", {{"option", "str"}, {"parameters", "[CommandLineParameterInfo]"}});
    s.add_object("q_obj_query-command-line-options-arg", {{"option", "str", true}});
    s.add_object("CpuDefinitionInfo",
                 {{"name", "str"}, {"migration-safe", "bool", true}, {"static", "bool"},
                  {"unavailable-features", "[str]", true}, {"typename", "str"},
                  {"alias-of", "str", true}, {"deprecated", "bool"}});
    s.add_object("q_obj_qom-list-properties-arg", {{"typename", "str"}});
    s.add_enum("TpmModel", {});
    s.add_enum("TpmType", {});
}

} // namespace

void add_probe_commands(QmpCommandTable& table, Schema& schema) {
    add_probe_types(schema);
    table.add({"query-command-line-options", "q_obj_query-command-line-options-arg", "[CommandLineOptionInfo]",
               query_command_line_options});
    table.add({"query-cpu-definitions", "q_empty", "[CpuDefinitionInfo]",
               [](const Json&) { return query_cpu_definitions(); }});
    table.add({"qom-list-properties", "q_obj_qom-list-properties-arg", "[ObjectPropertyInfo]", qom_list_properties});
    // kestrel has no TPM.
    table.add({"query-tpm-models", "q_empty", "[TpmModel]", [](const Json&) { return Json::array(); }});
    table.add({"query-tpm-types", "q_empty", "[TpmType]", [](const Json&) { return Json::array(); }});
}

} // namespace kestrel::qmp
