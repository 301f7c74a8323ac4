// qom-list-types and device-list-properties, from the device table: the
// types kestrel has, their QOM parents, and each type's properties with
// QEMU's type names and defaults.
#include "devices/device_types.h"
#include "monitor/qmp/qmp_commands.h"

#include <set>

namespace kestrel::qmp {

namespace {

// The abstract QOM classes kestrel's types descend from, with their own
// parents, as QEMU 7.2 names them.
constexpr std::pair<std::string_view, std::string_view> kAbstractParents[] = {
    {"device", "object"},           {"sys-bus-device", "device"},    {"pci-device", "device"},
    {"isa-device", "device"},       {"pci-host-bridge", "sys-bus-device"}, {"pci-piix3", "pci-device"},
    {"virtio-pci", "pci-device"},   {"virtio-blk-pci-base", "virtio-pci"},
    {"memory-backend", "object"},   {"secret_common", "object"},    {"rng-backend", "object"},
    {"virtio-rng-pci-base", "virtio-pci"}, {"virtio-serial-pci-base", "virtio-pci"}, {"virtio-serial-port", "device"},
    {"cpu", "device"},              {"x86_64-cpu", "cpu"},
};

// The classes of the CPU models -cpu accepts (query-cpu-definitions'
// typenames). libvirt asks max-x86_64-cpu's properties only when it is listed.
constexpr std::pair<std::string_view, std::string_view> kCpuTypes[] = {
    {"max-x86_64-cpu", "x86_64-cpu"},    {"host-x86_64-cpu", "max-x86_64-cpu"},
    {"qemu64-x86_64-cpu", "x86_64-cpu"}, {"qemu64-v1-x86_64-cpu", "x86_64-cpu"},
    {"kvm64-x86_64-cpu", "x86_64-cpu"},  {"kvm64-v1-x86_64-cpu", "x86_64-cpu"},
};

// The user-creatable objects besides iothread (-object, object-add).
constexpr std::pair<std::string_view, std::string_view> kObjectTypes[] = {
    {"memory-backend-ram", "memory-backend"}, {"memory-backend-file", "memory-backend"},
    {"memory-backend-memfd", "memory-backend"}, {"secret", "secret_common"},
    {"rng-random", "rng-backend"},              {"rng-builtin", "rng-backend"},
};

std::string_view parent_of(std::string_view type) {
    for (const DeviceType* t : device_types())
        if (t->name == type) return t->qom_parent;
    if (type == "iothread") return "object";
    for (auto [name, parent] : kObjectTypes)
        if (name == type) return parent;
    for (auto [name, parent] : kCpuTypes)
        if (name == type) return parent;
    for (auto [name, parent] : kAbstractParents)
        if (name == type) return parent;
    return "";
}

bool implements(std::string_view type, const std::string& wanted) {
    for (std::string_view t = type; !t.empty(); t = parent_of(t))
        if (t == wanted) return true;
    return false;
}

Json qom_list_types(const Json& args) {
    Json implements_arg = optional_arg(args, "implements");
    Json abstract_arg = optional_arg(args, "abstract");
    bool with_abstract = abstract_arg.is_boolean() && abstract_arg.get<bool>();
    std::vector<std::pair<std::string_view, bool>> types;  // name, abstract
    for (const DeviceType* t : device_types()) types.emplace_back(t->name, false);
    types.emplace_back("iothread", false);
    for (auto [name, parent] : kObjectTypes) types.emplace_back(name, false);
    for (auto [name, parent] : kCpuTypes) types.emplace_back(name, false);
    if (with_abstract)
        for (auto [name, parent] : kAbstractParents) types.emplace_back(name, true);
    Json list = Json::array();
    for (auto [name, abstract] : types) {
        if (implements_arg.is_string() && !implements(name, implements_arg.get<std::string>())) continue;
        Json info = Json::object();
        info["name"] = name;
        if (abstract) info["abstract"] = true;
        info["parent"] = parent_of(name);
        list.push_back(std::move(info));
    }
    return list;
}

Json default_value(const PropertySpec& spec, const PropertyValues& defaults) {
    switch (spec.type) {
    case PropType::Bool: return defaults.boolean(spec.name);
    case PropType::Str:
    case PropType::Drive:
    case PropType::Chardev:
    case PropType::Netdev:
    case PropType::Iothread:
    case PropType::RngBackend:
    case PropType::MacAddr:
    case PropType::ReadOnly:
    case PropType::LostTickPolicy:  // QEMU's enum, held as its name
    case PropType::OnOffAuto:
        return defaults.str(spec.name);
    case PropType::Int32:
    case PropType::Int:
    case PropType::BootIndex:
    case PropType::PciAddr: return defaults.sint(spec.name);
    default: return defaults.uint(spec.name);
    }
}

Json device_list_properties(const Json& args) {
    std::string name = args.at("typename").get<std::string>();
    const DeviceType* type = find_device_type(name);
    if (!type) {
        if (!parent_of(name).empty()) throw MonitorError("Parameter 'typename' expects a non-abstract device type");
        throw MonitorError(QmpErrorClass::DeviceNotFound, "Device '" + name + "' not found");
    }
    PropertyValues defaults = type->default_values();
    Json list = Json::array();
    for (const PropertySpec* spec : type->all_properties()) {
        Json p = Json::object();
        p["name"] = spec->name;
        p["type"] = prop_type_name(spec->type);
        if (!spec->description.empty()) p["description"] = spec->description;
        if (spec->has_default) p["default-value"] = default_value(*spec, defaults);
        list.push_back(std::move(p));
    }
    return list;
}

} // namespace

void add_device_commands(QmpCommandTable& table, Schema& s) {
    s.add_object("q_obj_qom-list-types-arg", {{"implements", "str", true}, {"abstract", "bool", true}});
    s.add_object("ObjectTypeInfo", {{"name", "str"}, {"abstract", "bool", true}, {"parent", "str", true}});
    s.add_object("q_obj_device-list-properties-arg", {{"typename", "str"}});
    s.add_object("ObjectPropertyInfo",
                 {{"name", "str"}, {"type", "str"}, {"description", "str", true}, {"default-value", "any", true}});
    table.add({"qom-list-types", "q_obj_qom-list-types-arg", "[ObjectTypeInfo]", qom_list_types});
    table.add({"device-list-properties", "q_obj_device-list-properties-arg", "[ObjectPropertyInfo]",
               device_list_properties});
}

} // namespace kestrel::qmp
