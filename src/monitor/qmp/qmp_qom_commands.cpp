// qom-list, qom-get and qom-set on the machine's devices and vCPUs: their
// QOM paths (whole, or a partial path naming one object), their
// properties, and the balloon's guest statistics, with QEMU 7.2's answers
// and errors. The vCPUs' own properties are in qmp_qom_cpu.cpp. Of the
// other objects only the containers of -device's devices
// (/machine/peripheral and /machine/peripheral-anon) can be listed; the
// machine itself is not there.
#include "monitor/qmp/qmp_commands.h"

#include "devices/balloon_service.h"
#include "devices/device_type.h"
#include "monitor/qmp/qmp_qom_cpu.h"

#include <optional>

namespace kestrel::qmp {

namespace {

bool ends_with_component(const std::string& path, const std::string& partial) {
    return path.size() > partial.size() && path.ends_with(partial) && path[path.size() - partial.size() - 1] == '/';
}

// A device or a vCPU.
struct QomObject {
    const Device* device = nullptr;
    std::optional<VcpuInfo> vcpu;
};

// As QEMU's object_resolve_path: a path from the root, or a partial path
// that only one object ends with.
QomObject resolve(const VmControl& vm, const std::string& path) {
    QomObject found;
    unsigned matches = 0;
    auto matches_path = [&](const std::string& qom_path) {
        return path.starts_with('/') ? qom_path == path : !path.empty() && ends_with_component(qom_path, path);
    };
    for (VcpuInfo& cpu : vm.cpus()) {
        if (!matches_path(cpu.qom_path)) continue;
        ++matches;
        found.vcpu = std::move(cpu);
    }
    for (const auto& d : vm.devices().devices()) {
        if (!matches_path(d->qom_path())) continue;
        ++matches;
        found.device = d.get();
    }
    if (matches != 1) throw MonitorError(QmpErrorClass::DeviceNotFound, "Device '" + path + "' not found");
    return found;
}

// The balloon's own QOM properties, if `device` is the balloon.
BalloonService* balloon_of(const VmControl& vm, const Device& device) {
    BalloonService* balloon = vm.services().find<BalloonService>();
    return balloon && balloon->qom_path() == device.qom_path() ? balloon : nullptr;
}

MonitorError not_found(const Device& device, const std::string& property) {
    return MonitorError("Property '" + std::string(device.type().name) + "." + property + "' not found");
}

Json guest_stats(const BalloonGuestStats& s) {
    Json stats = Json::object();
    for (size_t i = 0; i < kBalloonStatNames.size(); ++i) stats[std::string(kBalloonStatNames[i])] = s.values[i];
    return Json{{"stats", std::move(stats)}, {"last-update", s.last_update}};
}

// A property's value as QOM gives it: unset strings and links are "",
// an unset boot index -1.
Json property_value(const PropertyValues& values, const PropertySpec& spec) {
    switch (spec.type) {
    case PropType::Bool: return values.boolean(spec.name);
    case PropType::Str:
    case PropType::Drive:
    case PropType::Chardev:
    case PropType::Iothread:
    case PropType::RngBackend:
    case PropType::LostTickPolicy:
    case PropType::OnOffAuto: return values.str(spec.name);
    case PropType::Int32:
    case PropType::PciAddr:
    case PropType::BootIndex:
    case PropType::Int: return values.optional_int(spec.name).value_or(-1);
    default: return values.has(spec.name) ? values.uint(spec.name) : 0;
    }
}

Json qom_get(const VmControl& vm, const Json& args) {
    QomObject object = resolve(vm, args.at("path").get<std::string>());
    const std::string property = args.at("property").get<std::string>();
    if (object.vcpu) return vcpu_qom_get(*object.vcpu, property);
    const Device& device = *object.device;
    if (property == "type") return std::string(device.type().name);
    if (BalloonService* balloon = balloon_of(vm, device)) {
        if (property == "guest-stats") return guest_stats(balloon->guest_stats());
        if (property == "guest-stats-polling-interval") return balloon->stats_polling_interval();
    }
    const PropertySpec* spec = device.properties().find(property);
    if (!spec || spec->type == PropType::ReadOnly) throw not_found(device, property);
    return property_value(device.properties(), *spec);
}

Json property_info(std::string name, std::string type) {
    return Json{{"name", std::move(name)}, {"type", std::move(type)}};
}

// "/machine/peripheral" or "/machine/peripheral-anon": a child per device.
std::optional<Json> list_container(const VmControl& vm, const std::string& path) {
    if (path != "/machine/peripheral" && path != "/machine/peripheral-anon") return std::nullopt;
    Json list = Json::array({property_info("type", "string")});
    const std::string prefix = path + "/";
    auto add_child = [&](const std::string& p, const std::string& type) {
        if (p.starts_with(prefix) && p.find('/', prefix.size()) == std::string::npos)
            list.push_back(property_info(p.substr(prefix.size()), "child<" + type + ">"));
    };
    for (const auto& d : vm.devices().devices()) add_child(d->qom_path(), std::string(d->type().name));
    for (const VcpuInfo& cpu : vm.cpus()) add_child(cpu.qom_path, cpu.cpu_model + "-x86_64-cpu");  // -device CPUs
    return list;
}

Json qom_list(const VmControl& vm, const Json& args) {
    const std::string path = args.at("path").get<std::string>();
    if (std::optional<Json> container = list_container(vm, path)) return *container;
    QomObject object = resolve(vm, path);
    if (object.vcpu) return vcpu_qom_list(*object.vcpu);
    const Device& device = *object.device;
    Json list = Json::array({property_info("type", "string")});
    for (const PropertySpec* spec : device.type().all_properties())
        if (spec->type != PropType::ReadOnly) list.push_back(property_info(std::string(spec->name), std::string(prop_type_name(spec->type))));
    if (balloon_of(vm, device)) {
        list.push_back(property_info("guest-stats-polling-interval", "int"));
        list.push_back(property_info("guest-stats", "guest statistics"));
    }
    return list;
}

void set_polling_interval(BalloonService& balloon, const Json& value) {
    if (!value.is_number_integer() || (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX)))
        throw MonitorError("Invalid parameter type for 'guest-stats-polling-interval', expected: integer");
    const int64_t seconds = value.get<int64_t>();
    if (auto error = balloon_polling_interval_error(seconds)) throw MonitorError(*error);
    balloon.set_stats_polling_interval(seconds);
}

// Device properties are fixed once the device is realized; a property of
// the virtio device below a proxy names that (anonymous) device.
void qom_set(const VmControl& vm, const Json& args) {
    QomObject object = resolve(vm, args.at("path").get<std::string>());
    const std::string property = args.at("property").get<std::string>();
    if (object.vcpu) vcpu_qom_set(*object.vcpu, property);
    const Device& device = *object.device;
    BalloonService* balloon = balloon_of(vm, device);
    if (balloon && property == "guest-stats-polling-interval") return set_polling_interval(*balloon, args.at("value"));
    const PropertySpec* spec = device.properties().find(property);
    const DeviceType& type = device.type();
    const std::string backend(type.backend.empty() ? type.name : type.backend);
    if (property == "type") throw MonitorError("Property '" + std::string(type.name) + ".type' is not writable");
    if (!spec) throw not_found(device, property);
    if (spec->type == PropType::ReadOnly)
        throw MonitorError("Property '" + backend + "." + property + "' is not writable");
    const bool below = spec->qtree == PropertySpec::Qtree::Backend;
    const std::string who = below || device.id().empty() ? "anonymous device" : "device '" + device.id() + "'";
    throw MonitorError("Attempt to set property '" + property + "' on " + who + " (type '" +
                       (below ? backend : std::string(type.name)) + "') after it was realized");
}

} // namespace

void add_qom_commands(QmpCommandTable& table, Schema& schema, QmpServices& services) {
    schema.add_object("ObjectPropertyBase", {{"path", "str"}, {"property", "str"}});
    schema.add_object("ObjectPropertyValue", {{"path", "str"}, {"property", "str"}, {"value", "any"}});
    schema.add_object("q_obj_qom-list-arg", {{"path", "str"}});
    VmControl& vm = services.vm;
    table.add({"qom-list", "q_obj_qom-list-arg", "[ObjectPropertyInfo]",
               [&vm](const Json& args) { return qom_list(vm, args); }});
    table.add({"qom-get", "ObjectPropertyBase", "any", [&vm](const Json& args) { return qom_get(vm, args); }});
    table.add({"qom-set", "ObjectPropertyValue", "q_empty", [&vm](const Json& args) {
        qom_set(vm, args);
        return Json::object();
    }});
}

} // namespace kestrel::qmp
