#include "config/argv_tokens.h"

#include "config/option_table.h"
#include "config/parser.h"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace kestrel {

namespace {

// Every option of the option table. Single-letter names are long options
// too: QEMU spells all options with one dash ("-m", "-machine") and also
// accepts two, which is Boost's allow_long_disguise.
po::options_description boost_options() {
    po::options_description desc;
    for (const OptionDef& option : option_table()) {
        std::string name(option.name);
        if (option.takes_value)
            desc.add_options()(name.c_str(), po::value<std::string>());
        else
            desc.add_options()(name.c_str(), "");
    }
    return desc;
}

// Boost accepts two spellings QEMU rejects, so this parser (tried before
// Boost's own) claims them as unregistered options, which are then reported
// as "<token>: invalid option" like QEMU does:
//  - "--" is Boost's end-of-options marker; QEMU has no such marker.
//  - "-m=512" / "-S=1": Boost splits at '='; QEMU only knows "-m 512".
// When Boost looks ahead for an option's argument it runs the style parsers
// on a copy of the next token and then takes that token as the argument
// anyway, so "-append --" still gives -append the value "--" as in QEMU.
std::vector<po::option> qemu_only_spellings(std::vector<std::string>& args) {
    const std::string& tok = args.front();
    bool dashed_with_equals = tok.size() > 1 && tok[0] == '-' && tok.find('=') != std::string::npos;
    if (tok != "--" && !dashed_with_equals)
        return {};
    po::option opt;
    opt.string_key = tok;
    opt.unregistered = true;
    opt.original_tokens.push_back(tok);
    args.erase(args.begin());
    return {opt};
}

// Runs Boost over argv; returns nullopt when the last option lacks its
// argument (Boost takes any next token as the argument, as QEMU does, so an
// argument can only be missing after the last token).
std::optional<po::parsed_options> run_boost(std::span<char* const> argv) {
    namespace style = po::command_line_style;
    // No allow_short: "-foo" must not become "-f oo"; no guessing: QEMU does
    // not accept abbreviations such as "-mach".
    int qemu_style = style::allow_long | style::long_allow_next | style::allow_long_disguise;
    try {
        return po::command_line_parser(int(argv.size()), argv.data())
            .options(boost_options())
            .style(qemu_style)
            .extra_style_parser(qemu_only_spellings)
            .allow_unregistered()
            .run();
    } catch (const po::invalid_command_line_syntax& e) {
        if (e.kind() == po::invalid_command_line_syntax::missing_parameter)
            return std::nullopt;
        throw ConfigError(e.what());
    } catch (const po::error& e) {
        throw ConfigError(e.what());
    }
}

} // namespace

std::vector<ArgToken> tokenize(std::span<char* const> argv) {
    std::optional<po::parsed_options> parsed = run_boost(argv);
    if (!parsed) {
        std::vector<ArgToken> tokens = tokenize(argv.first(argv.size() - 1));
        tokens.push_back({ArgToken::Kind::MissingArgument, "", argv.back(), std::nullopt});
        return tokens;
    }
    std::vector<ArgToken> tokens;
    size_t cursor = 1;  // Boost rewrites "-m" as "--m"; recover the typed spelling.
    for (const po::option& opt : parsed->options) {
        std::string typed = cursor < argv.size() ? argv[cursor] : opt.original_tokens.at(0);
        cursor += opt.original_tokens.size();
        ArgToken token{ArgToken::Kind::Option, opt.string_key, typed, std::nullopt};
        if (opt.unregistered || (opt.string_key.empty() && typed.starts_with("-")))
            token.kind = ArgToken::Kind::Invalid;
        else if (opt.string_key.empty())
            token.kind = ArgToken::Kind::Positional;
        else if (!opt.value.empty())
            token.value = opt.value.front();
        tokens.push_back(std::move(token));
    }
    return tokens;
}

} // namespace kestrel
