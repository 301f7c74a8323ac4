#pragma once
// Internal to src/config: the properties of one -object (or QMP
// object-add) read as QEMU's QOM visitors read them: from key=value text
// (every value a string to parse) or from JSON (values keep their types),
// with QEMU 7.2's messages. Used by the secret and memory backend objects.
#include "config/json_keys.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel {

class ObjectProps {
public:
    // `typed`: the values came from JSON.
    ObjectProps(std::vector<TypedKey> keys, bool typed) : keys_(std::move(keys)), typed_(typed) {}

    // The last value given for `key`, marked used; nullopt when absent.
    std::optional<std::string> str(std::string_view key);
    std::optional<bool> boolean(std::string_view key);
    std::optional<uint64_t> size(std::string_view key);
    std::optional<uint64_t> u64(std::string_view key);
    // One of `values`: "Parameter 'K' does not accept value 'V'".
    std::optional<std::string> choice(std::string_view key, std::initializer_list<std::string_view> values);
    // "Parameter 'K' is missing" when absent.
    std::string required_str(std::string_view key);
    // Throws "Invalid parameter 'K'" (JSON: "Parameter 'K' is unexpected")
    // for the first key nothing asked for.
    void check_all_used() const;

private:
    const TypedKey* find(std::string_view key);
    std::vector<TypedKey> keys_;
    std::vector<std::string> used_;
    bool typed_;
};

} // namespace kestrel
