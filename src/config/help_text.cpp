// -version, -help and the "help" listings of -machine, -cpu, -accel,
// -display and -d (those of -device and -object are in their files), laid
// out like QEMU's so that people and scripts find things where they expect
// them.
#include "config/chardev_opts.h"
#include "config/cpu_features.h"
#include "config/option_table.h"
#include "config/parser.h"

#include "kestrel_version.h"

#include <iomanip>
#include <sstream>

namespace kestrel {

namespace {

// The QEMU release whose command line, defaults and messages kestrel follows.
constexpr const char* kQemuCompatVersion = "7.2.0";

void print_wrapped_words(std::ostream& out, std::span<const std::string_view> words) {
    size_t column = 0;
    for (std::string_view word : words) {
        if (column > 0 && column + 1 + word.size() > 76) {
            out << '\n';
            column = 0;
        }
        out << (column == 0 ? "  " : " ") << word;
        column += (column == 0 ? 2 : 1) + word.size();
    }
    out << '\n';
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

void print_machine_help(std::ostream& out) {
    out << "Supported machines are:\n"
        << "pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)\n"
        << "pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)\n"
        << "pc-i440fx-X.Y        (X.Y from 1.4 to 7.1) accepted as pc-i440fx-7.2\n";
}

void print_cpu_help(std::ostream& out) {
    out << "Available CPUs:\n"
        << "x86 host                  processor with all features KVM supports on this host\n"
        << "x86 kvm64                 Common KVM processor\n"
        << "x86 max                   Enables all features supported by KVM on this host\n"
        << "x86 qemu64                QEMU Virtual CPU version 2.5+\n"
        << "\nRecognized CPUID flags:\n";
    print_wrapped_words(out, cpuid_flag_names());
}

void print_accel_help(std::ostream& out) {
    out << "Accelerators supported in kestrel:\nkvm\n";
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
