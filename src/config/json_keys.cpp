#include "config/json_keys.h"

#include "base/config_error.h"
#include "base/json/json_text.h"

namespace kestrel {
namespace {

void flatten(const Json& object, const std::string& prefix, std::vector<TypedKey>& out) {
    for (const auto& [name, value] : object.items()) {
        std::string key = prefix + name;
        switch (value.type()) {
        case Json::value_t::object:
            if (value.empty())
                out.push_back({key, "", TypedKey::Type::Object});
            else
                flatten(value, key + ".", out);
            break;
        case Json::value_t::array: out.push_back({key, "", TypedKey::Type::Array}); break;
        case Json::value_t::string: out.push_back({key, value.get<std::string>(), TypedKey::Type::String}); break;
        case Json::value_t::boolean: out.push_back({key, value.get<bool>() ? "on" : "off", TypedKey::Type::Bool}); break;
        case Json::value_t::null: out.push_back({key, "", TypedKey::Type::Null}); break;
        default: out.push_back({key, value.dump(), TypedKey::Type::Number}); break;
        }
    }
}

} // namespace

std::vector<TypedKey> flatten_json_object(std::string_view text) {
    auto parsed = parse_json_text(text);
    if (auto* error = std::get_if<std::string>(&parsed)) throw ConfigError(*error);
    const Json& value = std::get<Json>(parsed);
    if (!value.is_object()) throw ConfigError("Expecting a JSON object");
    std::vector<TypedKey> out;
    flatten(value, "", out);
    return out;
}

qopts::SplitResult split_json_scalars(std::string_view text) {
    qopts::SplitResult split;
    for (TypedKey& k : flatten_json_object(text)) {
        if (k.type == TypedKey::Type::Object || k.type == TypedKey::Type::Array || k.type == TypedKey::Type::Null)
            throw ConfigError("Parameter '" + k.key + "' expects a scalar value");
        qopts::JsonValue json = qopts::JsonValue::String;
        if (k.type == TypedKey::Type::Bool) json = qopts::JsonValue::Bool;
        if (k.type == TypedKey::Type::Number)
            json = k.value.find_first_of(".eE") == std::string::npos ? qopts::JsonValue::Integer : qopts::JsonValue::Float;
        split.pairs.push_back({std::move(k.key), std::move(k.value), false, json});
    }
    return split;
}

} // namespace kestrel
