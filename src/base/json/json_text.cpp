#include "base/json/json_text.h"

#include "base/json/json_stream.h"

#include <optional>

namespace kestrel {

std::variant<Json, std::string> parse_json_text(std::string_view text) {
    std::optional<Json> value;
    std::optional<std::string> error;
    JsonStream stream([&](Json v, const std::string* e) {
        if (error) return;   // the first error wins
        if (value) {
            value.reset();
            error = "Expecting at most one JSON value";
        } else if (e) {
            error = *e;
        } else {
            value = std::move(v);
        }
    });
    stream.feed({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    stream.flush();
    if (error) return *error;
    return value ? std::move(*value) : Json();
}

} // namespace kestrel
