#include "config/object_props.h"

#include "base/config_error.h"
#include "base/qemu_opts.h"

#include <algorithm>

namespace kestrel {

const TypedKey* ObjectProps::find(std::string_view key) {
    const TypedKey* found = nullptr;
    for (const TypedKey& k : keys_)
        if (k.key == key) found = &k;
    if (found) used_.emplace_back(key);
    return found;
}

std::optional<std::string> ObjectProps::str(std::string_view key) {
    const TypedKey* k = find(key);
    if (!k) return std::nullopt;
    if (typed_ && k->type != TypedKey::Type::String)
        throw ConfigError("Invalid parameter type for '" + k->key + "', expected: string");
    return k->value;
}

std::optional<bool> ObjectProps::boolean(std::string_view key) {
    const TypedKey* k = find(key);
    if (!k) return std::nullopt;
    if (typed_) {
        if (k->type != TypedKey::Type::Bool)
            throw ConfigError("Invalid parameter type for '" + k->key + "', expected: boolean");
        return k->value == "on";
    }
    if (k->value == "on") return true;
    if (k->value == "off") return false;
    throw ConfigError("Parameter '" + k->key + "' expects 'on' or 'off'");
}

std::optional<uint64_t> ObjectProps::size(std::string_view key) {
    const TypedKey* k = find(key);
    if (!k) return std::nullopt;
    uint64_t value = 0;
    if (typed_) {
        auto n = k->type == TypedKey::Type::Number ? qopts::to_u64(k->value) : std::nullopt;
        if (!n || k->value.starts_with('-')) throw ConfigError("Parameter '" + k->key + "' expects uint64");
        return n;
    }
    if (qopts::to_size(k->value, value) != qopts::SizeStatus::Ok)
        throw ConfigError("Parameter '" + k->key + "' expects a size value");
    return value;
}

std::optional<uint64_t> ObjectProps::u64(std::string_view key) {
    const TypedKey* k = find(key);
    if (!k) return std::nullopt;
    auto n = (!typed_ || k->type == TypedKey::Type::Number) ? qopts::to_u64(k->value) : std::nullopt;
    if (!n || k->value.starts_with('-'))
        throw ConfigError(typed_ ? "Parameter '" + k->key + "' expects uint64"
                                 : "Parameter '" + k->key + "' expects a uint64 value");
    return n;
}

std::optional<std::string> ObjectProps::choice(std::string_view key, std::initializer_list<std::string_view> values) {
    std::optional<std::string> v = str(key);
    if (v && std::find(values.begin(), values.end(), *v) == values.end())
        throw ConfigError("Parameter '" + std::string(key) + "' does not accept value '" + *v + "'");
    return v;
}

std::string ObjectProps::required_str(std::string_view key) {
    std::optional<std::string> v = str(key);
    if (!v) throw ConfigError("Parameter '" + std::string(key) + "' is missing");
    return *v;
}

void ObjectProps::check_all_used() const {
    for (const TypedKey& k : keys_)
        if (std::find(used_.begin(), used_.end(), k.key) == used_.end())
            throw ConfigError(typed_ ? "Parameter '" + k.key + "' is unexpected" : "Invalid parameter '" + k.key + "'");
}

} // namespace kestrel
