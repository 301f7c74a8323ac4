#pragma once
// Helpers to run the command line parser on a list of strings.
#include "config/parser.h"

#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace kestrel::test {

struct ParseOutcome {
    std::optional<Config> config;  // nullopt for informational options or errors
    std::string output;            // what the parser printed
    std::string error;             // ConfigError::what(), empty when none
};

inline ParseOutcome run_parser(const std::vector<std::string>& args,
                               const std::string& program = "kestrel") {
    std::vector<std::string> storage{program};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : storage)
        argv.push_back(s.data());
    ParseOutcome outcome;
    std::ostringstream out;
    try {
        outcome.config = parse_command_line(argv, out);
    } catch (const ConfigError& e) {
        outcome.error = e.what();
    }
    outcome.output = out.str();
    return outcome;
}

// Parses a command line that must be valid and not informational.
inline Config parse_ok(const std::vector<std::string>& args) {
    ParseOutcome outcome = run_parser(args);
    if (!outcome.error.empty())
        throw std::runtime_error("unexpected error: " + outcome.error);
    if (!outcome.config)
        throw std::runtime_error("unexpected informational result");
    return *outcome.config;
}

// The error message for a command line that must be rejected.
inline std::string parse_error(const std::vector<std::string>& args) {
    ParseOutcome outcome = run_parser(args);
    if (outcome.error.empty())
        throw std::runtime_error("command line was accepted");
    return outcome.error;
}

} // namespace kestrel::test
