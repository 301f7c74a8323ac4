// The top-level HMP commands: help, lifecycle, cpu, log, balloon, and the
// commands of devices kestrel does not have, answered as QEMU answers when
// the device is absent.
#include "monitor/balloon_control.h"
#include "monitor/hotplug_commands.h"
#include "monitor/hmp/hmp_command.h"

#include <algorithm>

namespace kestrel {

namespace {

void help(HmpContext& ctx, const HmpCall& call) {
    if (!call.has(0)) {
        ctx.print(hmp_help_list(hmp_commands()));
        return;
    }
    std::string_view rest = call.text(0);
    std::string_view word = take_hmp_word(rest);
    const HmpCommand* cmd = find_hmp_command(hmp_commands(), word);
    if (!cmd) {
        ctx.print("unknown command: '" + std::string(word) + "'\n");
        return;
    }
    if (!cmd->subcommands) {
        ctx.print(hmp_help_line(*cmd));
        return;
    }
    if (rest.empty()) {
        ctx.print(hmp_help_list(*cmd->subcommands, "info "));
        return;
    }
    std::string_view sub_name = take_hmp_word(rest);
    const HmpCommand* sub = find_hmp_command(*cmd->subcommands, sub_name);
    if (!sub)
        ctx.print("unknown command: 'info " + std::string(sub_name) + "'\n");
    else
        ctx.print(hmp_help_line(*sub, "info "));
}

void info_list(HmpContext& ctx, const HmpCall&) { ctx.print(hmp_help_list(hmp_info_commands(), "info ")); }

void stop(HmpContext& ctx, const HmpCall&) { ctx.vm().stop(); }
void cont(HmpContext& ctx, const HmpCall&) { ctx.vm().cont(); }
void system_reset(HmpContext& ctx, const HmpCall&) { ctx.vm().system_reset(); }
void system_powerdown(HmpContext& ctx, const HmpCall&) { ctx.vm().system_powerdown(); }
// kestrel's board offers no S3 (\_S5 only), so a guest is never suspended:
// QEMU 7.2's answer for a guest that is not.
void system_wakeup(HmpContext&, const HmpCall&) { throw MonitorError("Unable to wake up: guest is not in suspended state"); }
void nmi(HmpContext& ctx, const HmpCall&) { ctx.vm().inject_nmi(); }

void quit(HmpContext& ctx, const HmpCall&) {
    ctx.suspend = true;
    ctx.vm().quit();
}

void cpu(HmpContext& ctx, const HmpCall& call) {
    uint64_t index = call.number(0);
    auto cpus = ctx.vm().cpus();
    bool exists = std::any_of(cpus.begin(), cpus.end(), [&](const VcpuInfo& c) { return c.index == index; });
    if (!exists) {
        ctx.print("invalid CPU index\n");
        return;
    }
    ctx.state.current_cpu = static_cast<unsigned>(index);
}

// An unknown item makes QEMU print its list of items, not an error line;
// VmControl::set_log_items puts that text in its MonitorError.
void log(HmpContext& ctx, const HmpCall& call) {
    try {
        ctx.vm().set_log_items(call.text(0));
    } catch (const MonitorError& e) {
        ctx.print(std::string(e.what()) + "\n");
    }
}

void logfile(HmpContext& ctx, const HmpCall& call) { ctx.vm().set_log_file(call.text(0)); }

void balloon(HmpContext& ctx, const HmpCall& call) { request_balloon(ctx.vm(), call.signed_number(0)); }

// As -device: driver first, then key=value pairs.
void device_add(HmpContext& ctx, const HmpCall& call) {
    std::vector<qopts::OptPair> options;
    try {
        options = qopts::split(call.text(0), "driver", qopts::Syntax::QemuOpts).pairs;
    } catch (const std::runtime_error& e) {
        throw MonitorError(e.what());
    }
    hotplug_device_add(ctx.vm(), options);
}

void device_del(HmpContext& ctx, const HmpCall& call) { hotplug_device_del(ctx.vm(), call.text(0)); }


std::vector<HmpCommand> build_table() {
    using A = HmpArg;
    std::vector<HmpCommand> table{
        {"balloon", {A::Megabytes}, "target", "request VM to change its memory allocation (in MB)", balloon},
        {"commit", {A::Device}, "device|all",
         "commit changes to the disk images (if -snapshot is used) or backing files", hmp_commit},
        {"change", {A::Device, A::OptRest}, "device [-f] filename [format [read-only-mode]]",
         "change a removable medium, optional format, use -f to force the operation", hmp_change},
        {"cont|c", {}, "", "resume emulation", cont},
        {"cpu", {A::Expr}, "index", "set the default CPU", cpu},
        {"device_add", {A::String}, "driver[,prop=value][,...]", "add device, like -device on the command line",
         device_add},
        {"device_del", {A::String}, "device", "remove device", device_del},
        {"eject", {A::OptRest}, "[-f] device", "eject a removable medium (use -f to force it)", hmp_eject},
        {"expire_password", {A::String, A::String, A::OptRest}, "protocol time [-d display]",
         "set spice/vnc password expire-time", hmp_expire_password},
        {"help|?", {A::OptRest}, "[cmd]", "show the help", help},
        {"info", {}, "[subcommand]", "show various information about the system state", info_list,
         &hmp_info_commands()},
        {"log", {A::String}, "item1[,...]", "activate logging of the specified items", log},
        {"logfile", {A::Filename}, "filename", "output logs to 'filename'", logfile},
        {"mouse_button", {A::Expr}, "state", "change mouse button state (1=L, 2=M, 4=R)", hmp_mouse_button},
        {"mouse_move", {A::String, A::OptRest}, "dx dy [dz]", "send mouse move events", hmp_mouse_move},
        {"mouse_set", {A::Expr}, "index", "set which mouse device receives events", hmp_mouse_set},
        {"nmi", {}, "", "inject an NMI", nmi},
        {"quit|q", {}, "", "quit the emulator", quit},
        {"screendump", {A::Filename, A::OptRest}, "filename [-f format] [device [head]]",
         "save screen from head 'head' of display device 'device'in specified format 'format' as image "
         "'filename'.Currently only 'png' and 'ppm' formats are supported.",
         hmp_screendump},
        {"sendkey", {A::String, A::OptRest}, "keys [hold_ms]",
         "send keys to the VM (e.g. 'sendkey ctrl-alt-f1', default hold time=100 ms)", hmp_sendkey},
        {"set_password", {A::String, A::String, A::OptRest}, "protocol password [-d display] [action-if-connected]",
         "set spice/vnc password", hmp_set_password},
        {"stop|s", {}, "", "stop emulation", stop},
        {"system_powerdown", {}, "", "send system power down event", system_powerdown},
        {"system_reset", {}, "", "reset the system", system_reset},
        {"system_wakeup", {}, "", "wakeup guest from suspend", system_wakeup},
    };
    for (const auto& cmd : hmp_memory_commands()) table.push_back(cmd);
    for (const auto& cmd : hmp_net_commands()) table.push_back(cmd);
    for (const auto& cmd : hmp_dump_commands()) table.push_back(cmd);
    return table;
}

} // namespace

const std::vector<HmpCommand>& hmp_commands() {
    static const std::vector<HmpCommand> table = build_table();
    return table;
}

} // namespace kestrel
