#pragma once
// The human monitor (HMP), QEMU 7.2's text monitor: what it needs from the
// machine, the state one monitor keeps, and the entry point that runs one
// command line (used by HmpSession and by QMP's human-monitor-command).
#include "monitor/hmp/hmp_history.h"
#include "monitor/vm_control.h"

#include <string>
#include <string_view>

namespace kestrel {

class GuestDumper;

struct HmpServices {
    VmControl& vm;
    // "info version" prints version then package, as QEMU does; the banner
    // says "QEMU <version> monitor".
    std::string qemu_version = "7.2.0";
    std::string qemu_package;
    GuestDumper* dumper = nullptr;   // dump-guest-memory, info dump; none: refused
};

// What one monitor remembers between commands. QMP's human-monitor-command
// gets a fresh one per command, as in QEMU (so "cpu N" does not stick there).
struct HmpState {
    unsigned current_cpu = 0;       // "cpu N"; "x", "memsave", "info registers"
    char last_format = 'x';         // "x /FMT" without a format or size reuses these
    unsigned last_size = 4;
    HmpHistory history;             // filled by the line editor
};

// Runs one command line; returns what it prints, lines ending in "\r\n" as
// QEMU's monitor writes them. Never throws for bad input: errors are text.
std::string run_hmp_command(HmpServices& services, HmpState& state, std::string_view line);

} // namespace kestrel
