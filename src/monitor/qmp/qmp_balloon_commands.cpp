// balloon and query-balloon, with QEMU 7.2's errors when there is no
// balloon device (BALLOON_CHANGE is sent by Monitors).
#include "monitor/balloon_control.h"
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

void add_balloon_commands(QmpCommandTable& table, Schema& schema, QmpServices& services) {
    schema.add_object("q_obj_balloon-arg", {{"value", "int"}});
    schema.add_object("BalloonInfo", {{"actual", "int"}});
    VmControl& vm = services.vm;
    table.add({"balloon", "q_obj_balloon-arg", "q_empty", [&vm](const Json& args) {
        request_balloon(vm, args.at("value").get<int64_t>());
        return Json::object();
    }});
    table.add({"query-balloon", "q_empty", "BalloonInfo", [&vm](const Json&) {
        return Json{{"actual", active_balloon(vm).actual()}};
    }});
}

} // namespace kestrel::qmp
