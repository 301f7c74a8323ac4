#pragma once
// Splits argv into QEMU-style options ("-name [value]" or "--name [value]")
// with Boost.ProgramOptions, keeping the spelling the user typed so error
// messages can quote it as QEMU does ("--m foo: ...").
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

struct ArgToken {
    // Bad tokens are reported when the parser reaches them, as QEMU does,
    // so "-m foo -bar" complains about -m first.
    enum class Kind {
        Option,
        Invalid,          // "-foo: invalid option"
        MissingArgument,  // "-m: requires an argument" (always the last token)
        Positional,       // a disk image in QEMU (-hda); not supported
    };
    Kind kind = Kind::Option;
    std::string name;                  // registered option name, e.g. "m"
    std::string spelled;               // as typed, e.g. "-m" or "--m"
    std::optional<std::string> value;  // the option's argument, if it takes one

    // "-m foo" or "-S": how QEMU names the option in its messages.
    std::string location() const { return value ? spelled + " " + *value : spelled; }
};

// argv[0] is the program. Never throws for bad user input: see Kind.
std::vector<ArgToken> tokenize(std::span<char* const> argv);

} // namespace kestrel
