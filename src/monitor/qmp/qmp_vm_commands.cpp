// stop, cont, system_reset, system_powerdown, system_wakeup, inject-nmi, quit,
// human-monitor-command.
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

namespace {

// HMP output as QEMU's monitor writes it: every "\n" becomes "\r\n".
std::string with_crlf(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            out += '\r';
        out += text[i];
    }
    return out;
}

} // namespace

unsigned checked_cpu_index(VmControl& vm, const Json& index) {
    if (index.is_null())
        return 0;
    int64_t i = index.get<int64_t>();
    for (const VcpuInfo& cpu : vm.cpus()) {
        if (i >= 0 && cpu.index == static_cast<uint64_t>(i))
            return cpu.index;
    }
    throw MonitorError("Parameter 'cpu-index' expects a CPU number");
}

void add_vm_commands(QmpCommandTable& table, QmpServices& services) {
    VmControl& vm = services.vm;
    auto simple = [&table](const char* name, std::function<void()> action) {
        table.add({name, "q_empty", "q_empty", [action](const Json&) {
            action();
            return Json::object();
        }});
    };
    simple("stop", [&vm] { vm.stop(); });
    simple("cont", [&vm] { vm.cont(); });
    simple("system_reset", [&vm] { vm.system_reset(); });
    simple("system_powerdown", [&vm] { vm.system_powerdown(); });
    simple("inject-nmi", [&vm] { vm.inject_nmi(); });   // every vCPU, as QEMU's pc machine
    // No S3 on kestrel's board: the guest is never suspended (QEMU 7.2's text).
    simple("system_wakeup", [] { throw MonitorError("Unable to wake up: guest is not in suspended state"); });
    // As in QEMU the SHUTDOWN event goes out before the reply; VmControl
    // ends the process only after the reply is written.
    simple("quit", [&vm] { vm.quit(); });
    table.add({"human-monitor-command", "q_obj_human-monitor-command-arg", "str",
               [&vm, &services](const Json& args) {
        Json index = optional_arg(args, "cpu-index");
        std::optional<unsigned> cpu;
        if (!index.is_null())
            cpu = checked_cpu_index(vm, index);
        if (!services.hmp)
            throw MonitorError("The command human-monitor-command has not been found");
        return Json(with_crlf(services.hmp(args.at("command-line").get<std::string>(), cpu)));
    }});
}

} // namespace kestrel::qmp
