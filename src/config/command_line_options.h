#pragma once
// query-command-line-options: the options kestrel accepts that QEMU reads
// as option groups (QemuOpts), under QEMU's group names, with the
// parameters kestrel checks by name. An empty parameter list means the
// group takes parameters that depend on something else (a driver, a
// backend), as in QEMU's answer.
#include <string>
#include <string_view>
#include <vector>

namespace kestrel {

struct CommandLineParameter {
    std::string_view name;
    std::string_view type;   // QEMU's CommandLineParameterType: string, boolean, number, size
};

struct CommandLineOptionInfo {
    std::string_view option;   // the group's name ("boot-opts" for -boot)
    std::vector<CommandLineParameter> parameters;
};

std::vector<CommandLineOptionInfo> command_line_options();

} // namespace kestrel
