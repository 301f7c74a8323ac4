// kestrel: argv → Config → PcMachine → run → exit status.
#include "chardev/terminal.h"
#include "config/parser.h"
#include "machine/none_machine.h"
#include "machine/pc_machine.h"
#include "base/fd_sets.h"
#include "base/messages.h"
#include "base/privileges.h"
#include "base/process.h"

#include <csignal>
#include <iostream>
#include <sstream>
#include <string>

namespace {

// One message line per line of text, each with the program prefix, as QEMU.
void print_error(const std::string& program, const std::string& message) {
    std::istringstream lines(message);
    std::string line;
    while (std::getline(lines, line)) std::cerr << kestrel::message_prefix() << program << ": " << line << "\n";
}

std::string program_name(const char* argv0) {
    std::string s = argv0 ? argv0 : "kestrel";
    auto slash = s.rfind('/');
    return slash == std::string::npos ? s : s.substr(slash + 1);
}

template <class Machine>
int run_machine(const kestrel::Config& cfg) {
    kestrel::Daemonizer daemon;
    try {
        if (cfg.daemonize) daemon.detach();
        kestrel::setup_logging(cfg.program, cfg.logfile, cfg.log_items);
        kestrel::add_command_line_fds(cfg.add_fds);
        Machine machine(cfg);
        if (cfg.mem_lock) kestrel::lock_all_memory();  // QEMU's realtime_init, once the board exists
        for (const auto& warning : cfg.creation_warnings) print_error(cfg.program, warning);
        machine.open_backends();
        std::unique_ptr<kestrel::PidFile> pidfile;
        if (!cfg.pidfile.empty()) pidfile = std::make_unique<kestrel::PidFile>(cfg.pidfile);
        // As QEMU: /dev/null is opened for the daemon's stdio before
        // -chroot, then -runas; the sandbox goes on last.
        daemon.prepare_ready();
        if (!cfg.chroot_dir.empty()) kestrel::change_root(cfg.chroot_dir);
        if (cfg.runas) kestrel::drop_privileges(*cfg.runas);
        machine.enter_sandbox();
        daemon.report_ready();
        int status = machine.run();
        kestrel::restore_terminal();
        return status;
    } catch (const std::exception& e) {
        kestrel::restore_terminal();
        print_error(cfg.program, e.what());
        daemon.report_failure();
        return 1;
    }
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    std::string program = program_name(argc > 0 ? argv[0] : nullptr);
    std::optional<kestrel::Config> cfg;
    try {
        cfg = kestrel::parse_command_line({argv, size_t(argc)}, std::cout);
    } catch (const std::exception& e) {
        print_error(program, e.what());
        return 1;
    }
    if (!cfg) return 0;  // -version, -help, -M help ...
    for (const auto& warning : cfg->warnings) print_error(cfg->program, warning);
    kestrel::use_small_thread_stacks();
    kestrel::keep_malloc_thresholds_fixed();
    if (cfg->machine.type == "none") return run_machine<kestrel::NoneMachine>(*cfg);
    return run_machine<kestrel::PcMachine>(*cfg);
}
