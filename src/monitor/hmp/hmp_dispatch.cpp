// From a command line to a handler: name lookup ("info" has its own
// table), argument errors and machine errors printed as QEMU prints them.
#include "monitor/hmp/hmp_command.h"

#include <algorithm>
#include <cctype>

namespace kestrel {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// A command name ends at a space or at the '/' of "x/4x".
std::string_view take_name(std::string_view& text) {
    size_t n = 0;
    while (n < text.size() && text[n] != '/' && !is_space(text[n])) ++n;
    std::string_view name = text.substr(0, n);
    text.remove_prefix(n);
    return name;
}

// A handler that reads more of the line itself (mouse_move's optional
// words, block's options) throws HmpArgError as the parser does.
void run_parsed(HmpContext& ctx, const HmpCommand& cmd, std::string_view args, std::string_view typed) {
    try {
        HmpCall call = parse_hmp_args(cmd, args, ctx);
        cmd.handler(ctx, call);
    } catch (const HmpArgError& e) {
        ctx.print(std::string(e.what()) + "\n");
        ctx.print("Try \"help " + std::string(typed) + "\" for more information\n");
    } catch (const MonitorError& e) {
        ctx.print(std::string("Error: ") + e.what() + "\n");
    }
}

// `line` is the whole command line from its first non-space character;
// `text` the part still to read (it differs for "info" subcommands).
void dispatch(HmpContext& ctx, const std::vector<HmpCommand>& table, std::string_view line,
              std::string_view text) {
    std::string_view name = take_name(text);
    std::string_view typed = line.substr(0, static_cast<size_t>(text.data() - line.data()));
    const HmpCommand* cmd = find_hmp_command(table, name);
    if (!cmd) {
        ctx.print("unknown command: '" + std::string(typed) + "'\n");
        return;
    }
    skip_hmp_spaces(text);
    if (cmd->subcommands && !text.empty()) {
        dispatch(ctx, *cmd->subcommands, line, text);
        return;
    }
    run_parsed(ctx, *cmd, text, typed);
}

bool name_matches(std::string_view names, std::string_view name) {
    while (!names.empty()) {
        size_t bar = names.find('|');
        if (names.substr(0, bar) == name) return true;
        if (bar == std::string_view::npos) break;
        names.remove_prefix(bar + 1);
    }
    return false;
}

} // namespace

const HmpCommand* find_hmp_command(const std::vector<HmpCommand>& table, std::string_view name) {
    if (name.empty()) return nullptr;
    for (const auto& cmd : table)
        if (name_matches(cmd.name, name)) return &cmd;
    return nullptr;
}

std::string hmp_help_line(const HmpCommand& cmd, std::string_view prefix) {
    std::string line(prefix);
    line.append(cmd.name).append(" ").append(cmd.params).append(" -- ").append(cmd.help);
    return line + "\n";
}

std::string hmp_help_list(const std::vector<HmpCommand>& table, std::string_view prefix) {
    std::vector<const HmpCommand*> sorted;
    for (const auto& cmd : table) sorted.push_back(&cmd);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
    std::string out;
    for (auto* cmd : sorted) out += hmp_help_line(*cmd, prefix);
    return out;
}

std::string hmp_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (char c : text) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

bool run_hmp_line(HmpContext& ctx, std::string_view line) {
    skip_hmp_spaces(line);
    if (!line.empty()) dispatch(ctx, hmp_commands(), line, line);
    return !ctx.suspend;
}

std::string run_hmp_command(HmpServices& services, HmpState& state, std::string_view line) {
    HmpContext ctx{services, state, {}};
    run_hmp_line(ctx, line);
    return hmp_crlf(ctx.out);
}

HmpCompletion complete_hmp_command(std::string_view before_cursor) {
    std::string_view text = before_cursor;
    skip_hmp_spaces(text);
    const std::vector<HmpCommand>* table = &hmp_commands();
    size_t space = text.find_first_of(" \t");
    if (space != std::string_view::npos) {
        if (text.substr(0, space) != "info") return {};
        text.remove_prefix(space);
        skip_hmp_spaces(text);
        if (text.find_first_of(" \t") != std::string_view::npos) return {};
        table = &hmp_info_commands();
    }
    HmpCompletion found{text.size(), {}};
    for (const auto& cmd : *table) {
        std::string_view names = cmd.name;
        while (!names.empty()) {
            std::string_view one = names.substr(0, names.find('|'));
            if (one.substr(0, text.size()) == text) found.candidates.emplace_back(one);
            names.remove_prefix(std::min(names.size(), one.size() + 1));
        }
    }
    return found;
}

} // namespace kestrel
