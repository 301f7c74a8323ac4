#include "config/command_line_options.h"

#include "config/option_table.h"

namespace kestrel {

namespace {

struct GroupDef {
    std::string_view group;    // QEMU's QemuOptsList name
    std::string_view option;   // the command-line option that reads it
    std::vector<CommandLineParameter> parameters;
};

// The keys are those kestrel's handlers accept (split_checked lists).
const std::vector<GroupDef>& group_defs() {
    static const std::vector<GroupDef> defs = {
        {"machine", "machine", {{"usb", "boolean"}}},
        {"sandbox", "sandbox",
         {{"resourcecontrol", "string"}, {"spawn", "string"}, {"elevateprivileges", "string"},
          {"obsolete", "string"}, {"enable", "boolean"}}},
        {"vnc", "vnc", {}},
        {"action", "action", {{"watchdog", "string"}, {"panic", "string"}, {"reboot", "string"}, {"shutdown", "string"}}},
        {"fw_cfg", "fw_cfg", {}},
        {"name", "name", {{"debug-threads", "boolean"}, {"process", "string"}, {"guest", "string"}}},
        {"object", "object", {}},
        {"boot-opts", "boot",
         {{"strict", "boolean"}, {"reboot-timeout", "number"}, {"splash-time", "number"},
          {"menu", "boolean"}, {"once", "string"}, {"order", "string"}}},
        {"smp-opts", "smp",
         {{"maxcpus", "number"}, {"threads", "number"}, {"cores", "number"}, {"clusters", "number"},
          {"dies", "number"}, {"sockets", "number"}, {"cpus", "number"}}},
        {"memory", "m", {{"maxmem", "size"}, {"slots", "number"}, {"size", "size"}}},
        {"accel", "accel", {}},
        {"mon", "mon", {{"pretty", "boolean"}, {"chardev", "string"}, {"mode", "string"}}},
        {"global", "global", {{"value", "string"}, {"property", "string"}, {"driver", "string"}}},
        {"rtc", "rtc", {{"driftfix", "string"}, {"clock", "string"}, {"base", "string"}}},
        {"net", "net", {}},
        {"nic", "nic", {}},
        {"netdev", "netdev", {}},
        {"device", "device", {}},
        {"chardev", "chardev", {}},
        {"drive", "drive", {}},
    };
    return defs;
}

} // namespace

std::vector<CommandLineOptionInfo> command_line_options() {
    std::vector<CommandLineOptionInfo> out;
    for (const GroupDef& def : group_defs()) {
        if (find_option(def.option)) out.push_back({def.group, def.parameters});
    }
    return out;
}

} // namespace kestrel
