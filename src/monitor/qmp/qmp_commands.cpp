#include "monitor/qmp/qmp_commands.h"

#include "monitor/qmp/qmp_event_hub.h"

namespace kestrel::qmp {

QmpCommandTable::QmpCommandTable(QmpServices& services, MonitorFds* fds) {
    add_schema_types(schema_);
    // The session runs qmp_capabilities itself; the entry is for argument
    // checking and introspection.
    add({"qmp_capabilities", "q_obj_qmp_capabilities-arg", "q_empty",
         [](const Json&) { return Json::object(); }});
    add_query_commands(*this, services);
    add_vm_commands(*this, services);
    add_memory_commands(*this, services);
    add_block_commands(*this, schema_, services);
    add_medium_commands(*this, schema_, services);
    add_device_commands(*this, schema_);
    add_balloon_commands(*this, schema_, services);
    add_qom_commands(*this, schema_, services);
    add_net_commands(*this, schema_, services, fds);
    add_hotplug_commands(*this, schema_, services);
    add_blockdev_commands(*this, schema_, services);
    add_display_commands(*this, schema_, services);
    add_probe_commands(*this, schema_);   // after add_device_commands: ObjectPropertyInfo
    add_cpu_commands(*this, schema_, services);
    add_fd_commands(*this, schema_, fds);
    add_object_commands(*this, schema_, services);
    add_migration_commands(*this, schema_);
    add_iothread_commands(*this, schema_, services);
    add_job_commands(*this, schema_);
    add_dump_commands(*this, schema_, services, fds);
    add({"query-commands", "q_empty", "[CommandInfo]", [this](const Json&) { return query_commands(); }});
    add({"query-events", "q_empty", "[EventInfo]", [this](const Json&) { return query_events(); }});
    add({"query-qmp-schema", "q_empty", "[SchemaInfo]", [this](const Json&) { return introspect(); }});
}

void QmpCommandTable::add(QmpCommand command) {
    schema_.type(command.arg_type);   // a typo fails at start-up, not at a client
    schema_.add_array_type(command.ret_type);
    schema_.type(command.ret_type);
    commands_.push_back(std::move(command));
}

const QmpCommand* QmpCommandTable::find(const std::string& name) const {
    for (const QmpCommand& c : commands_) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

Json QmpCommandTable::query_commands() const {
    Json list = Json::array();
    for (const QmpCommand& c : commands_)
        list.push_back(Json{{"name", c.name}});
    return list;
}

Json QmpCommandTable::query_events() const {
    Json list = Json::array();
    for (const QmpEventInfo& e : qmp_event_list())
        list.push_back(Json{{"name", e.name}});
    return list;
}

Json QmpCommandTable::introspect() const {
    Json out = Json::array();
    std::vector<std::string> reached;
    for (const QmpCommand& c : commands_) {
        Json info{{"name", c.name}, {"meta-type", "command"}, {"arg-type", c.arg_type}, {"ret-type", c.ret_type}};
        if (!c.features.empty()) info["features"] = c.features;
        out.push_back(std::move(info));
        reached.push_back(c.arg_type);
        reached.push_back(c.ret_type);
    }
    for (const QmpEventInfo& e : qmp_event_list()) {
        out.push_back(Json{{"name", e.name}, {"meta-type", "event"}, {"arg-type", e.arg_type}});
        reached.push_back(e.arg_type);
    }
    // Builtins are listed whether used or not, as QEMU does.
    for (const char* b : {"str", "any", "bool", "int", "null", "number"})
        reached.push_back(b);
    schema_.describe(reached, out);
    return out;
}

Json optional_arg(const Json& args, const char* name) {
    auto it = args.find(name);
    return it == args.end() ? Json() : *it;
}

} // namespace kestrel::qmp
