#include "config/parser.h"

#include "config/block_opts.h"
#include "config/option_table.h"

#include <algorithm>
#include <filesystem>

namespace kestrel {

namespace {

bool is_help(const std::optional<LocatedText>& arg) {
    return arg && (arg->text == "help" || arg->text == "?");
}

// The "help" listings; QEMU prints them once every option has been read.
bool print_requested_listing(ParseState& st, std::ostream& out) {
    if (st.machine_help)
        print_machine_help(out);
    else if (st.accel_help)
        print_accel_help(out);
    else if (is_help(st.cpu))
        print_cpu_help(out);
    else if (st.display_help)
        print_display_help(out);
    else if (st.vga_help)
        print_vga_help(out);
    else if (is_help(st.log_items))
        print_log_help(out);
    else if (st.chardev_help)
        print_chardev_help(out);
    else if (st.device_help)
        print_device_help(out, *st.device_help);
    else if (st.object_help)
        print_object_help(out, *st.object_help);
    else if (st.netdev_help)
        print_netdev_help(out);
    else if (st.nic_model_help)
        print_nic_model_help(out);
    else
        return false;
    return true;
}

void check_daemonize(const Config& cfg) {
    // -nographic sends the serial port and monitor to stdio, which is gone
    // once daemonized; QEMU allows it only when -nodefaults removed both.
    if (cfg.daemonize && cfg.display == DisplayKind::Nographic && !cfg.nodefaults)
        throw ConfigError("-nographic cannot be used with -daemonize");
}

std::string program_name(std::span<char* const> argv) {
    if (argv.empty() || argv[0] == nullptr || argv[0][0] == '\0')
        return "kestrel";
    return std::filesystem::path(argv[0]).filename().string();
}

} // namespace

void finalize_block_devices(ParseState& st) {
    finalize_objects(st);
    finalize_blockdevs(st);
    finalize_drives(st);
    for (DriveConfig& d : st.blockdev_drives) st.cfg.drives.push_back(std::move(d));
    finalize_net(st);
    finalize_devices(st);
}

std::vector<qopts::OptPair> split_unchecked(ParseState& st, const ArgToken& tok,
                                            std::string_view implied_key) {
    return at_location(tok.location(), [&] {
        auto split = qopts::split(*tok.value, implied_key, qopts::Syntax::QemuOpts);
        for (const qopts::OptPair& p : split.pairs) {
            if (p.short_form)
                st.warn(tok.location(), qopts::short_form_warning(p));
        }
        return split.pairs;
    });
}

std::vector<qopts::OptPair> split_checked(ParseState& st, const ArgToken& tok,
                                          std::string_view implied_key,
                                          std::initializer_list<std::string_view> allowed) {
    return at_location(tok.location(), [&] {
        auto split = qopts::split(*tok.value, implied_key, qopts::Syntax::QemuOpts);
        for (const qopts::OptPair& p : split.pairs) {
            if (p.short_form)
                st.warn(tok.location(), qopts::short_form_warning(p));
            if (std::find(allowed.begin(), allowed.end(), p.key) == allowed.end())
                throw ConfigError("Invalid parameter '" + p.key + "'");
        }
        return split.pairs;
    });
}

std::optional<Config> parse_command_line(std::span<char* const> argv, std::ostream& out) {
    ParseState st;
    st.cfg.program = program_name(argv);
    for (const ArgToken& tok : tokenize(argv)) {
        switch (tok.kind) {
        case ArgToken::Kind::Invalid:
            throw ConfigError(tok.spelled + ": invalid option");
        case ArgToken::Kind::MissingArgument:
            throw ConfigError(tok.spelled + ": requires an argument");
        case ArgToken::Kind::Positional:
            add_hard_disk(st, tok.spelled, tok.spelled, 0);  // as -hda
            continue;
        case ArgToken::Kind::Option:
            break;
        }
        // QEMU acts on these two at once, ignoring the options after them.
        if (tok.name == "version") {
            print_version(out);
            return std::nullopt;
        }
        if (tok.name == "h" || tok.name == "help") {
            print_usage(out, st.cfg.program);
            return std::nullopt;
        }
        find_option(tok.name)->handle(st, tok);
    }
    if (print_requested_listing(st, out))
        return std::nullopt;

    apply_message_options(st);
    check_boot_options(st);
    finalize_boot_order(st);
    finalize_sandbox(st);
    finalize_log_items(st);
    check_daemonize(st.cfg);
    finalize_machine(st);
    finalize_accel(st);
    finalize_rtc(st);
    finalize_memory(st);
    finalize_smp(st);
    finalize_monitors(st);
    finalize_serials(st);
    finalize_debugcons(st);
    finalize_display(st);
    finalize_block_devices(st);
    finalize_cpu(st);
    finalize_cpu_devices(st);
    finalize_boot_files(st);
    check_none_machine(st);
    return std::move(st.cfg);
}

} // namespace kestrel
