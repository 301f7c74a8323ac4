// query-jobs and query-block-jobs: kestrel runs no background jobs (no
// block-commit, mirror, backup or image creation through QMP), so the
// lists are empty. libvirt asks for query-jobs when it reconnects to a
// running domain (a restarted libvirtd) and gives the domain up when the
// command is missing; older tools ask for query-block-jobs.
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

void add_job_commands(QmpCommandTable& table, Schema& s) {
    s.add_enum("JobType", {"commit", "stream", "mirror", "backup", "create", "amend", "snapshot-load",
                           "snapshot-save", "snapshot-delete"});
    s.add_enum("JobStatus", {"undefined", "created", "running", "paused", "ready", "standby", "waiting", "pending",
                             "aborting", "concluded", "null"});
    s.add_object("JobInfo", {{"id", "str"}, {"type", "JobType"}, {"status", "JobStatus"},
                             {"current-progress", "int"}, {"total-progress", "int"}, {"error", "str", true}});
    table.add({"query-jobs", "q_empty", "[JobInfo]", [](const Json&) { return Json::array(); }});
    s.add_object("BlockJobInfo", {{"type", "str"}, {"device", "str"}, {"len", "int"}, {"offset", "int"},
                                  {"busy", "bool"}, {"paused", "bool"}, {"speed", "int"},
                                  {"io-status", "BlockDeviceIoStatus"}, {"ready", "bool"}, {"status", "JobStatus"},
                                  {"auto-finalize", "bool"}, {"auto-dismiss", "bool"}, {"error", "str", true}});
    table.add({"query-block-jobs", "q_empty", "[BlockJobInfo]", [](const Json&) { return Json::array(); }});
}

} // namespace kestrel::qmp
