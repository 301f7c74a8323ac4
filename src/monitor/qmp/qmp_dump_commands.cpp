// dump-guest-memory, query-dump, query-dump-guest-memory-capability and the
// DUMP_COMPLETED event's type, with QEMU 7.2's schema, answers and errors.
#include "monitor/dump/guest_dumper.h"
#include "monitor/qmp/monitor_fds.h"
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

namespace {

DumpRequest dump_request(const Json& args) {
    DumpRequest r;
    r.paging = args.at("paging").get<bool>();
    if (Json v = optional_arg(args, "detach"); v.is_boolean()) r.detach = v.get<bool>();
    if (Json v = optional_arg(args, "begin"); v.is_number()) r.begin = v.get<int64_t>();
    if (Json v = optional_arg(args, "length"); v.is_number()) r.length = v.get<int64_t>();
    if (Json v = optional_arg(args, "format"); v.is_string()) r.format = v.get<std::string>();
    return r;
}

// As QEMU's monitor_get_fd: the named fd leaves the monitor.
UniqueFd take_named_fd(MonitorFds* mon, const std::string& name) {
    if (mon) {
        auto it = mon->named.find(name);
        if (it != mon->named.end()) {
            UniqueFd fd = std::move(it->second);
            mon->named.erase(it);
            return fd;
        }
    }
    throw MonitorError("File descriptor named '" + name + "' has not been found");
}

Json progress_json(const DumpProgress& p) {
    return Json{{"status", p.status}, {"completed", p.completed}, {"total", p.total}};
}

} // namespace

void add_dump_commands(QmpCommandTable& table, Schema& s, QmpServices& services, MonitorFds* fds) {
    s.add_enum("DumpGuestMemoryFormat", {"elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp"});
    s.add_enum("DumpStatus", {"none", "active", "completed", "failed"});
    s.add_object("q_obj_dump-guest-memory-arg",
                 {{"paging", "bool"}, {"protocol", "str"}, {"detach", "bool", true}, {"begin", "int", true},
                  {"length", "int", true}, {"format", "DumpGuestMemoryFormat", true}});
    s.add_object("DumpQueryResult", {{"status", "DumpStatus"}, {"completed", "int"}, {"total", "int"}});
    s.add_object("DumpGuestMemoryCapability", {{"formats", "[DumpGuestMemoryFormat]"}});
    s.add_object("q_obj_DUMP_COMPLETED-arg", {{"result", "DumpQueryResult"}, {"error", "str", true}});
    GuestDumper* dumper = services.dumper;
    if (!dumper) return;   // a table without a machine (tests)
    table.add({"dump-guest-memory", "q_obj_dump-guest-memory-arg", "q_empty", [dumper, fds](const Json& args) {
        DumpRequest request = dump_request(args);
        dumper->check(request);
        UniqueFd target = open_dump_target(args.at("protocol").get<std::string>(),
                                           [fds](const std::string& name) { return take_named_fd(fds, name); });
        dumper->start(request, std::move(target));
        return Json::object();
    }});
    table.add({"query-dump", "q_empty", "DumpQueryResult",
               [dumper](const Json&) { return progress_json(dumper->progress()); }});
    table.add({"query-dump-guest-memory-capability", "q_empty", "DumpGuestMemoryCapability", [](const Json&) {
        return Json{{"formats", GuestDumper::formats()}};
    }});
}

} // namespace kestrel::qmp
