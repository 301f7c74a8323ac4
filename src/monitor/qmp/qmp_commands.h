#pragma once
// The QMP command table: name, argument type and return type in the QMP
// schema, and the handler. Handlers get arguments already checked against
// the schema and throw MonitorError with QEMU's class and text.
#include "monitor/qmp/qmp_schema.h"
#include "monitor/qmp/qmp_services.h"

#include <functional>
#include <string>
#include <vector>

namespace kestrel::qmp {

struct MonitorFds;

struct QmpCommand {
    std::string name;
    std::string arg_type;   // an object type of the schema ("q_empty": none)
    std::string ret_type;
    std::function<Json(const Json& args)> run;
    std::vector<std::string> features = {};   // query-qmp-schema's, e.g. device_add's "json-cli"
};

class QmpCommandTable {
public:
    // `fds`: the monitor's SCM_RIGHTS fds (getfd, add-fd); none in tests.
    explicit QmpCommandTable(QmpServices& services, MonitorFds* fds = nullptr);
    QmpCommandTable(const QmpCommandTable&) = delete;   // handlers hold `this`
    QmpCommandTable& operator=(const QmpCommandTable&) = delete;

    const QmpCommand* find(const std::string& name) const;
    const std::vector<QmpCommand>& commands() const { return commands_; }
    const Schema& schema() const { return schema_; }
    void add(QmpCommand command);

    Json query_commands() const;   // [{"name": ...}, ...]
    Json query_events() const;
    Json introspect() const;       // query-qmp-schema: [SchemaInfo, ...]

private:
    std::vector<QmpCommand> commands_;
    Schema schema_;
};

// Registration, one file per group of commands.
void add_schema_types(Schema& schema);
void add_query_commands(QmpCommandTable& table, QmpServices& services);
void add_vm_commands(QmpCommandTable& table, QmpServices& services);
void add_memory_commands(QmpCommandTable& table, QmpServices& services);
void add_block_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_medium_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_device_commands(QmpCommandTable& table, Schema& schema);
void add_balloon_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_qom_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_net_commands(QmpCommandTable& table, Schema& schema, QmpServices& services, MonitorFds* fds);
void add_display_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_probe_commands(QmpCommandTable& table, Schema& schema);
void add_cpu_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_fd_commands(QmpCommandTable& table, Schema& schema, MonitorFds* fds);
void add_object_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_migration_commands(QmpCommandTable& table, Schema& schema);
void add_iothread_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_job_commands(QmpCommandTable& table, Schema& schema);
void add_hotplug_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_blockdev_commands(QmpCommandTable& table, Schema& schema, QmpServices& services);
void add_dump_commands(QmpCommandTable& table, Schema& schema, QmpServices& services, MonitorFds* fds);

// Helpers for handlers.
Json optional_arg(const Json& args, const char* name);   // null when absent
// An existing vCPU's index (absent: 0), else QEMU's "Parameter 'cpu-index'
// expects a CPU number".
unsigned checked_cpu_index(VmControl& vm, const Json& index);

} // namespace kestrel::qmp
