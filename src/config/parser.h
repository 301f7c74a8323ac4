#pragma once
// QEMU-compatible command line parsing: argv → Config.
//
// Pure parsing and validation: no files are created or written, nothing is
// daemonized. The only outside state consulted is read-only (whether -kernel
// and -initrd name readable files).
#include "base/config_error.h"
#include "config/config.h"

#include <optional>
#include <ostream>
#include <span>
#include <stdexcept>

namespace kestrel {

// Parses argv (argv[0] included; its basename becomes Config::program).
// Informational options (-version, -h/-help/--help, -machine help, -cpu help,
// -accel help, -display help, -d help) print to `out` and return nullopt;
// main then exits with status 0. Non-fatal diagnostics (QEMU's deprecation
// warnings) are returned in Config::warnings for main to print.
std::optional<Config> parse_command_line(std::span<char* const> argv, std::ostream& out);

// A -d item list ("guest_errors,unimp", "all") as the item names it
// enables, each once. Throws ConfigError for an unknown item. Also used by
// the monitor's "log" command.
std::vector<std::string> parse_log_items(const std::string& text);

// What the monitor's "log" prints for an unknown item: QEMU's item list
// with "none" first, without a final newline.
std::string monitor_log_help();

} // namespace kestrel
