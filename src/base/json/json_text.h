#pragma once
// One JSON value read from a complete text, the way QEMU 7.2 reads JSON
// option values (qobject_from_json): the same lexer, streamer and parser
// as QMP, with their error texts, plus "Expecting at most one JSON value".
#include "base/json/json_value.h"

#include <string>
#include <string_view>
#include <variant>

namespace kestrel {

// The value (null for a text without one), or the error text.
std::variant<Json, std::string> parse_json_text(std::string_view text);

} // namespace kestrel
