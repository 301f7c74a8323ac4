// Argument parsing of HMP commands, with QEMU's texts for bad input.
#include "monitor/hmp/hmp_command.h"

#include <cctype>

namespace kestrel {

namespace {

std::string command_name(const HmpCommand& cmd) { return std::string(cmd.name); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "/[count][format][size]" in any order after the count; what is not
// given comes from the last "x"/"xp" of this monitor.
HmpFormat parse_format(std::string_view& text, HmpState& state) {
    HmpFormat fmt;
    if (text.empty() || text.front() != '/') {
        fmt.format = state.last_format;
        fmt.size = fmt.format == 'i' ? 0 : state.last_size;
        return fmt;
    }
    text.remove_prefix(1);
    if (!text.empty() && is_digit(text.front())) {
        fmt.count = 0;
        while (!text.empty() && is_digit(text.front())) {
            fmt.count = fmt.count * 10 + static_cast<uint64_t>(text.front() - '0');
            text.remove_prefix(1);
        }
    }
    char format = 0;
    unsigned size = 0;
    for (; !text.empty(); text.remove_prefix(1)) {
        char c = text.front();
        if (std::string_view("oduxic").find(c) != std::string_view::npos) format = c;
        else if (c == 'b') size = 1;
        else if (c == 'h') size = 2;
        else if (c == 'w') size = 4;
        else if (c == 'g' || c == 'L') size = 8;
        else break;
    }
    if (!text.empty() && !std::isspace(static_cast<unsigned char>(text.front())))
        throw HmpArgError(std::string("invalid char in format: '") + text.front() + "'");
    fmt.format = format ? format : state.last_format;
    if (fmt.format != 'i') {
        if (!size) size = state.last_size;
        state.last_size = size;
    }
    fmt.size = size;
    state.last_format = fmt.format;
    return fmt;
}

HmpArgValue parse_one(const HmpCommand& cmd, HmpArg kind, std::string_view& text, HmpContext& ctx) {
    skip_hmp_spaces(text);
    switch (kind) {
    case HmpArg::Format:
        return parse_format(text, ctx.state);
    case HmpArg::Expr:
        return parse_hmp_expression(text, ctx.registers());
    case HmpArg::OptExpr:
        if (text.empty()) return std::monostate{};
        return parse_hmp_expression(text, ctx.registers());
    case HmpArg::Megabytes: {
        uint64_t value = parse_hmp_expression(text, ctx.registers());
        if (static_cast<int64_t>(value) < 0) throw HmpArgError("enter a positive value");
        return value << 20;  // QEMU multiplies its int64 by MiB, wrapping as this does
    }
    case HmpArg::String:
    case HmpArg::Filename:
    case HmpArg::Device: {
        auto word = parse_hmp_string(text);
        if (!word)
            throw HmpArgError(command_name(cmd) + (kind == HmpArg::String     ? ": string expected"
                                                   : kind == HmpArg::Filename ? ": filename expected"
                                                                              : ": block device name expected"));
        return *word;
    }
    case HmpArg::AllFlag:
        if (text.empty() || text.front() != '-') return false;
        if (text.size() < 2 || text[1] != 'a')
            throw HmpArgError(std::string("unsupported option -") + (text.size() < 2 ? ' ' : text[1]));
        text.remove_prefix(2);
        return true;
    case HmpArg::OnOff: {
        auto word = parse_hmp_string(text);
        if (!word || (*word != "on" && *word != "off")) throw HmpArgError("Expected 'on' or 'off'");
        return *word == "on";
    }
    case HmpArg::OptString: {
        if (text.empty()) return std::monostate{};
        auto word = parse_hmp_string(text);
        if (!word) return std::monostate{};
        return *word;
    }
    case HmpArg::OptRest: {
        if (text.empty()) return std::monostate{};
        std::string rest(text);
        text = {};
        while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.pop_back();
        return rest;
    }
    }
    return std::monostate{};
}

// QEMU's '-' arguments: each letter in turn takes "-<letter>" if that
// comes next; another letter still to come is left for it; any other is
// "<cmd>: unsupported option -<c>".
void parse_flags(const HmpCommand& cmd, std::string_view& text, HmpCall& call) {
    for (size_t i = 0; i < cmd.flags.size(); i++) {
        skip_hmp_spaces(text);
        bool set = false;
        if (!text.empty() && text.front() == '-') {
            char c = text.size() > 1 ? text[1] : '\0';
            if (c == cmd.flags[i]) {
                text.remove_prefix(2);
                set = true;
            } else if (c == '\0' || cmd.flags.find(c, i + 1) == std::string_view::npos) {
                throw HmpArgError(command_name(cmd) + ": unsupported option -" + std::string(1, c ? c : ' '));
            }
        }
        call.values.push_back(set);
    }
}

} // namespace

HmpCall parse_hmp_args(const HmpCommand& cmd, std::string_view text, HmpContext& ctx) {
    HmpCall call;
    parse_flags(cmd, text, call);
    for (HmpArg kind : cmd.args) call.values.push_back(parse_one(cmd, kind, text, ctx));
    skip_hmp_spaces(text);
    if (!text.empty()) throw HmpArgError(command_name(cmd) + ": extraneous characters at the end of line");
    return call;
}

} // namespace kestrel
