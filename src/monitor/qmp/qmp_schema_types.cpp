// The QAPI types of kestrel's commands and events, with QEMU 7.2's type
// and member names (member order = QEMU's, which also fixes reply order).
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

namespace {

SchemaMember opt(std::string name, std::string type) { return {std::move(name), std::move(type), true}; }

void add_argument_types(Schema& s) {
    s.add_object("q_empty", {});
    s.add_enum("QMPCapability", {"oob"});
    s.add_object("q_obj_qmp_capabilities-arg", {opt("enable", "[QMPCapability]")});
    s.add_object("q_obj_human-monitor-command-arg",
                 {{"command-line", "str"}, opt("cpu-index", "int")});
    s.add_object("q_obj_pmemsave-arg", {{"val", "int"}, {"size", "int"}, {"filename", "str"}});
    s.add_object("q_obj_memsave-arg",
                 {{"val", "int"}, {"size", "int"}, {"filename", "str"}, opt("cpu-index", "int")});
    s.add_enum("ShutdownCause", {"none", "host-error", "host-qmp-quit", "host-qmp-system-reset",
                                 "host-signal", "host-ui", "guest-shutdown", "guest-reset",
                                 "guest-panic", "subsystem-reset", "snapshot-load"});
    s.add_object("q_obj_SHUTDOWN-arg", {{"guest", "bool"}, {"reason", "ShutdownCause"}});
    s.add_object("q_obj_RESET-arg", {{"guest", "bool"}, {"reason", "ShutdownCause"}});
    // QEMU's "info" member (hyper-v and s390 crash data) is never sent by kestrel.
    s.add_enum("GuestPanicAction", {"pause", "poweroff", "run"});
    s.add_object("q_obj_GUEST_PANICKED-arg", {{"action", "GuestPanicAction"}});
    s.add_object("q_obj_GUEST_CRASHLOADED-arg", {{"action", "GuestPanicAction"}});
    s.add_object("q_obj_BALLOON_CHANGE-arg", {{"actual", "int"}});
    s.add_object("q_obj_VSERPORT_CHANGE-arg", {{"id", "str"}, {"open", "bool"}});
}

void add_return_types(Schema& s) {
    s.add_object("VersionTriple", {{"major", "int"}, {"minor", "int"}, {"micro", "int"}});
    s.add_object("VersionInfo", {{"qemu", "VersionTriple"}, {"package", "str"}});
    s.add_enum("RunState", {"debug", "inmigrate", "internal-error", "io-error", "paused",
                            "postmigrate", "prelaunch", "finish-migrate", "restore-vm", "running",
                            "save-vm", "shutdown", "suspended", "watchdog", "guest-panicked",
                            "colo"});
    s.add_object("StatusInfo", {{"running", "bool"}, {"singlestep", "bool"}, {"status", "RunState"}});
    s.add_object("NameInfo", {opt("name", "str")});
    s.add_object("UuidInfo", {{"UUID", "str"}});
    s.add_object("KvmInfo", {{"enabled", "bool"}, {"present", "bool"}});
    s.add_enum("SysEmuTarget", {"x86_64"});
    s.add_object("TargetInfo", {{"arch", "SysEmuTarget"}});
    s.add_object("CpuInstanceProperties",
                 {opt("node-id", "int"), opt("socket-id", "int"), opt("die-id", "int"),
                  opt("cluster-id", "int"), opt("core-id", "int"), opt("thread-id", "int")});
    s.add_object("CpuInfoFast", {{"cpu-index", "int"}, {"qom-path", "str"}, {"thread-id", "int"},
                                 opt("props", "CpuInstanceProperties"), {"target", "SysEmuTarget"}});
    s.add_object("HotpluggableCPU", {{"type", "str"}, {"vcpus-count", "int"},
                                     {"props", "CpuInstanceProperties"}, opt("qom-path", "str")});
    s.add_object("CommandInfo", {{"name", "str"}});
    s.add_object("EventInfo", {{"name", "str"}});
    s.add_object("MachineInfo",
                 {{"name", "str"}, opt("alias", "str"), opt("is-default", "bool"),
                  {"cpu-max", "int"}, {"hotpluggable-cpus", "bool"},
                  {"numa-mem-supported", "bool"}, {"deprecated", "bool"},
                  opt("default-cpu-type", "str"), opt("default-ram-id", "str")});
    s.add_object("ChardevInfo", {{"label", "str"}, {"filename", "str"}, {"frontend-open", "bool"}});
    s.add_enum("SchemaMetaType", {"builtin", "enum", "array", "object", "alternate", "command",
                                  "event"});
    s.add_object("SchemaInfo",
                 {{"name", "str"}, {"meta-type", "SchemaMetaType"}, opt("features", "[str]")});
}

void add_pci_types(Schema& s) {
    s.add_object("PciMemoryRegion", {{"bar", "int"}, {"type", "str"}, {"address", "int"},
                                     {"size", "int"}, opt("prefetch", "bool"),
                                     opt("mem_type_64", "bool")});
    s.add_object("PciDeviceClass", {opt("desc", "str"), {"class", "int"}});
    s.add_object("PciDeviceId", {{"device", "int"}, {"vendor", "int"},
                                 opt("subsystem", "int"), opt("subsystem-vendor", "int")});
    s.add_object("PciDeviceInfo",
                 {{"bus", "int"}, {"slot", "int"}, {"function", "int"},
                  {"class_info", "PciDeviceClass"}, {"id", "PciDeviceId"}, opt("irq", "int"),
                  {"irq_pin", "int"}, {"qdev_id", "str"}, {"regions", "[PciMemoryRegion]"}});
    s.add_object("PciInfo", {{"bus", "int"}, {"devices", "[PciDeviceInfo]"}});
}

} // namespace

void add_schema_types(Schema& schema) {
    add_argument_types(schema);
    add_return_types(schema);
    add_pci_types(schema);
}

} // namespace kestrel::qmp
