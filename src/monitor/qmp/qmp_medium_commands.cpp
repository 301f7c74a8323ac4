// QEMU 7.2's removable-medium commands: eject, blockdev-open-tray,
// blockdev-close-tray, blockdev-remove-medium, blockdev-change-medium,
// blockdev-insert-medium (a -blockdev node no device uses) and the
// DEVICE_TRAY_MOVED event's type.
#include "monitor/medium_commands.h"
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

namespace {

SchemaMember opt(std::string name, std::string type) { return {std::move(name), std::move(type), true}; }

std::optional<std::string> optional_text(const Json& args, const char* name) {
    Json value = optional_arg(args, name);
    if (!value.is_string()) return std::nullopt;
    return value.get<std::string>();
}

bool optional_flag(const Json& args, const char* name) {
    Json value = optional_arg(args, name);
    return value.is_boolean() && value.get<bool>();
}

MediumTarget target_of(const Json& args) { return {optional_text(args, "device"), optional_text(args, "id")}; }

void add_medium_types(Schema& s) {
    s.add_object("q_obj_eject-arg", {opt("device", "str"), opt("id", "str"), opt("force", "bool")});
    s.add_object("q_obj_blockdev-open-tray-arg", {opt("device", "str"), opt("id", "str"), opt("force", "bool")});
    s.add_object("q_obj_blockdev-close-tray-arg", {opt("device", "str"), opt("id", "str")});
    s.add_object("q_obj_blockdev-remove-medium-arg", {{"id", "str"}});
    s.add_object("q_obj_blockdev-insert-medium-arg", {{"id", "str"}, {"node-name", "str"}});
    s.add_enum("BlockdevChangeReadOnlyMode", {"retain", "read-only", "read-write"});
    s.add_object("q_obj_blockdev-change-medium-arg",
                 {opt("device", "str"), opt("id", "str"), {"filename", "str"}, opt("format", "str"),
                  opt("force", "bool"), opt("read-only-mode", "BlockdevChangeReadOnlyMode")});
    s.add_object("q_obj_DEVICE_TRAY_MOVED-arg", {{"device", "str"}, {"id", "str"}, {"tray-open", "bool"}});
}

} // namespace

void add_medium_commands(QmpCommandTable& table, Schema& schema, QmpServices& services) {
    add_medium_types(schema);
    VmControl& vm = services.vm;
    table.add({"eject", "q_obj_eject-arg", "q_empty", [&vm](const Json& args) {
        with_media(vm, target_of(args), [&](MediumService& m) { m.eject(target_of(args), optional_flag(args, "force")); });
        return Json::object();
    }});
    table.add({"blockdev-open-tray", "q_obj_blockdev-open-tray-arg", "q_empty", [&vm](const Json& args) {
        with_media(vm, target_of(args),
                   [&](MediumService& m) { m.open_tray(target_of(args), optional_flag(args, "force")); });
        return Json::object();
    }});
    table.add({"blockdev-close-tray", "q_obj_blockdev-close-tray-arg", "q_empty", [&vm](const Json& args) {
        with_media(vm, target_of(args), [&](MediumService& m) { m.close_tray(target_of(args)); });
        return Json::object();
    }});
    table.add({"blockdev-remove-medium", "q_obj_blockdev-remove-medium-arg", "q_empty", [&vm](const Json& args) {
        const std::string id = args.at("id").get<std::string>();
        with_media(vm, {std::nullopt, id}, [&](MediumService& m) { m.remove_medium(id); });
        return Json::object();
    }});
    table.add({"blockdev-insert-medium", "q_obj_blockdev-insert-medium-arg", "q_empty", [&vm](const Json& args) {
        const std::string id = args.at("id").get<std::string>();
        const std::string node = args.at("node-name").get<std::string>();
        with_media(vm, {std::nullopt, id}, [&](MediumService& m) { m.insert_medium(id, node); });
        return Json::object();
    }});
    table.add({"blockdev-change-medium", "q_obj_blockdev-change-medium-arg", "q_empty", [&vm](const Json& args) {
        const std::string filename = args.at("filename").get<std::string>();
        const std::string format = optional_text(args, "format").value_or("");
        const std::string mode = optional_text(args, "read-only-mode").value_or("retain");
        with_media(vm, target_of(args), [&](MediumService& m) {
            m.change_medium(target_of(args), filename, format, optional_flag(args, "force"), mode);
        });
        return Json::object();
    }});
}

} // namespace kestrel::qmp
