#pragma once
// Runs the command line parser on argv[1..] = `args` and checks how it
// ends (fuzz_argv.cpp, fuzz_options.cpp).
#include "config/parser.h"
#include "fuzz_support.h"

#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

namespace kestrel::fuzz {

// An ostream that drops what help options print.
struct NullBuffer : std::streambuf {
    int overflow(int c) override { return c; }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

inline void parse_args(std::vector<std::string> args) {
    args.insert(args.begin(), "qemu-system-x86_64");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    NullBuffer null;
    std::ostream out(&null);
    try {
        parse_command_line({argv.data(), argv.size()}, out);
    } catch (const std::runtime_error& e) {
        FUZZ_CHECK(*e.what() != '\0', "an error without a message");
    }
    // Anything else (std::logic_error, std::bad_alloc, ...) escapes to
    // libFuzzer, which reports it as a crash.
}

} // namespace kestrel::fuzz
