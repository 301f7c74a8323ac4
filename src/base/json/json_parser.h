#pragma once
// Turns one complete top-level JSON text (a list of tokens whose braces
// balance) into a value, with QEMU 7.2's error texts ("expecting value",
// "invalid keyword 'x'", "duplicate key", ...) without the "JSON parse
// error, " prefix.
#include "base/json/json_lexer.h"
#include "base/json/json_value.h"

#include <string>
#include <variant>
#include <vector>

namespace kestrel {

struct JsonToken {
    TokenKind kind;
    std::string text;
};

// The value, or the error text.
std::variant<Json, std::string> parse_json_tokens(const std::vector<JsonToken>& tokens);

} // namespace kestrel
