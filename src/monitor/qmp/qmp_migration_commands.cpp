// query-migrate-capabilities and migrate-set-capabilities. kestrel cannot
// migrate; the one capability it has is "events" (send MIGRATION events),
// which libvirt sets on every domain it starts. With no migration there is
// never such an event to send, so setting it is honest; every other
// capability of QEMU 7.2 is absent from the enum and refused as QEMU
// refuses an unknown value.
#include "monitor/qmp/qmp_commands.h"

#include <atomic>

namespace kestrel::qmp {

namespace {

std::atomic<bool> events_enabled{false};  // one migration state per process, as QEMU's

Json query_capabilities() {
    return Json::array({Json{{"capability", "events"}, {"state", events_enabled.load()}}});
}

Json set_capabilities(const Json& args) {
    for (const Json& cap : args.at("capabilities"))
        events_enabled = cap.at("state").get<bool>();  // "events": the only value the enum lets through
    return Json::object();
}

} // namespace

void add_migration_commands(QmpCommandTable& table, Schema& s) {
    s.add_enum("MigrationCapability", {"events"});
    s.add_object("MigrationCapabilityStatus", {{"capability", "MigrationCapability"}, {"state", "bool"}});
    s.add_array_type("MigrationCapabilityStatus");
    s.add_object("q_obj_migrate-set-capabilities-arg", {{"capabilities", "[MigrationCapabilityStatus]"}});
    table.add({"query-migrate-capabilities", "q_empty", "[MigrationCapabilityStatus]",
               [](const Json&) { return query_capabilities(); }});
    table.add({"migrate-set-capabilities", "q_obj_migrate-set-capabilities-arg", "q_empty", set_capabilities});
}

} // namespace kestrel::qmp
