// -version, -help and the "help" listings of -machine, -cpu, -accel,
// -display and -d (those of -device and -object are in their files), laid
// out like QEMU's so that people and scripts find things where they expect
// them.
#include "config/chardev_opts.h"
#include "config/cpu_features.h"
#include "config/option_table.h"
#include "config/parser.h"

#include "kestrel_version.h"

#include <algorithm>
#include <fmt/format.h>
#include <functional>
#include <iomanip>
#include <sstream>

namespace kestrel {

namespace {

// The QEMU release whose command line, defaults and messages kestrel follows.
constexpr const char* kQemuCompatVersion = "7.2.0";

// QEMU's listflags(): "  a b c", a new line before a word that would
// bring the count (each word and one blank) to 75.
void print_wrapped_words(std::ostream& out, const std::vector<std::string_view>& words) {
    size_t len = 0;
    for (std::string_view word : words) {
        if (len + word.size() + 1 >= 75) {
            out << '\n';
            len = 0;
        }
        out << (len == 0 ? "  " : " ") << word;
        len += word.size() + 1;
    }
    out << '\n';
}

// The versions -M pc-i440fx-X.Y accepts, in QEMU's listing order
// (decreasing by name); keep in step with kPcVersions in
// options_machine_cpu.cpp.
std::vector<std::string> pc_machine_names() {
    std::vector<std::string> names;
    for (std::string_view v : {"1.4", "1.5", "1.6", "1.7", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
                               "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "3.0", "3.1", "4.0", "4.1", "4.2",
                               "5.0", "5.1", "5.2", "6.0", "6.1", "6.2", "7.0", "7.1", "7.2"})
        names.push_back("pc-i440fx-" + std::string(v));
    std::sort(names.begin(), names.end(), std::greater<>());
    return names;
}

} // namespace

void print_version(std::ostream& out) {
    out << "QEMU emulator version " << kQemuCompatVersion << " (kestrel " << KESTREL_VERSION
        << ")\n"
        << "Copyright (c) 2026 the kestrel developers; command line compatible with QEMU "
        << kQemuCompatVersion << "\n";
}

void print_usage(std::ostream& out, const std::string& program) {
    print_version(out);
    out << "usage: " << program << " [options]\n\n";
    print_option_help(out);
}

// QEMU's layout ("%-20s %s", the alias line before its machine); the
// i440FX machine types kestrel takes, as query-machines lists them, and the
// guestless none machine.
void print_machine_help(std::ostream& out) {
    constexpr const char* kDesc = "Standard PC (i440FX + PIIX, 1996)";
    out << "Supported machines are:\n";
    for (const std::string& name : pc_machine_names()) {
        bool current = name == "pc-i440fx-7.2";
        bool deprecated = name.starts_with("pc-i440fx-1.");
        if (current) out << fmt::format("{:<20} {} (alias of {})\n", "pc", kDesc, name);
        out << fmt::format("{:<20} {}{}{}\n", name, kDesc, current ? " (default)" : "", deprecated ? " (deprecated)" : "");
    }
    out << fmt::format("{:<20} {}\n", "none", "empty machine");  // no guest: what tools probe
}

// QEMU's "x86 %-20s  %s" lines for kestrel's models, in QEMU's order (host
// and max last), then every CPUID flag name -cpu takes, sorted, with the
// two names QEMU's tables hold twice printed twice as QEMU does.
void print_cpu_help(std::ostream& out) {
    out << "Available CPUs:\n"
        << "x86 kvm64                 (alias configured by machine type)\n"
        << "x86 kvm64-v1              Common KVM processor\n"
        << "x86 qemu64                (alias configured by machine type)\n"
        << "x86 qemu64-v1             QEMU Virtual CPU version 2.5+\n"
        << "x86 host                  processor with all supported host features \n"  // sic
        << "x86 max                   Enables all features supported by the accelerator in the current host\n"
        << "\nRecognized CPUID flags:\n";
    std::vector<std::string_view> flags(cpuid_flag_names().begin(), cpuid_flag_names().end());
    flags.push_back("kvmclock");
    flags.push_back("vmx-invept-single-context");
    std::sort(flags.begin(), flags.end());
    print_wrapped_words(out, flags);
    out << '\n';
}

void print_accel_help(std::ostream& out) {
    out << "Accelerators supported in QEMU binary:\nkvm\n";
}

void print_display_help(std::ostream& out) {
    out << "Available display backend types:\nnone\n";
}

void print_chardev_help(std::ostream& out) {
    out << "Available chardev backend types: ";  // sic: QEMU's trailing blank
    for (std::string_view name : chardev_backend_names())
        out << "\n  " << name;
    out << '\n';
}

namespace {

void print_log_items(std::ostream& out) {
    for (const LogItem& item : log_item_table()) {
        out << std::left << std::setw(15) << item.name << ' ' << item.description
            << (item.no_effect ? " (no effect in kestrel)" : "") << '\n';
    }
    out << "all             every item above\n";
}

} // namespace

void print_log_help(std::ostream& out) {
    out << "Log items (comma separated):\n";
    print_log_items(out);
}

// HMP's `log` with no valid item lists "none" first, as QEMU's monitor does.
std::string monitor_log_help() {
    std::ostringstream out;
    out << "Log items (comma separated):\n"
        << "none            remove all logs\n";
    print_log_items(out);
    std::string text = out.str();
    text.pop_back();
    return text;
}

} // namespace kestrel
