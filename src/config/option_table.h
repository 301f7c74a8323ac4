#pragma once
// Internal to src/config: every command-line option kestrel has, once:
// whether it takes a value (argv_tokens.cpp splits argv by it), the
// handler the parser calls, and its lines in --help, grouped by QEMU's
// sections in QEMU's order.
#include "config/parse_state.h"

#include <span>
#include <string_view>

namespace kestrel {

struct OptionDef {
    enum class Section { Standard, Block, Display, Network, Chardev, Boot, Debug, Object };

    std::string_view name;  // without the dash: "m", "machine"
    bool takes_value;
    // nullptr for -h, -help and -version: the parser acts on them at once.
    void (*handle)(ParseState& st, const ArgToken& tok);
    Section section;
    // Its --help lines; empty for another spelling of an option listed
    // beside it (-M, -help).
    std::string_view help;
};

std::span<const OptionDef> option_table();
const OptionDef* find_option(std::string_view name);
// --help's body: each section's title, then its options' lines.
void print_option_help(std::ostream& out);

} // namespace kestrel
