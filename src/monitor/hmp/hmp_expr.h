#pragma once
// HMP's argument grammar: the integer expressions of "x", "memsave", "cpu"
// (numbers in C notation, 'c' character constants, $register, ( ), unary
// + - ~, binary * / % & | ^ + -, with QEMU's precedences and messages) and
// the string words (bare, or "quoted" with \n \r \\ \' \" escapes).
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kestrel {

// A malformed argument; what() is QEMU's message ("number too large").
struct HmpArgError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Value of "$name" (current vCPU), or nullopt for "unknown register".
using HmpRegisterLookup = std::function<std::optional<uint64_t>(std::string_view name)>;

// Parses one expression from the front of `text` and removes it (and the
// spaces after it). Throws HmpArgError.
uint64_t parse_hmp_expression(std::string_view& text, const HmpRegisterLookup& registers);

// Parses one word or quoted string from the front of `text`; nullopt when
// `text` holds only spaces. Throws HmpArgError for a bad quoted string.
std::optional<std::string> parse_hmp_string(std::string_view& text);

void skip_hmp_spaces(std::string_view& text);
// The next space-separated word of `text` (unquoted), and the spaces after it.
std::string_view take_hmp_word(std::string_view& text);

} // namespace kestrel
