#pragma once
// A JSON object option value ("-blockdev '{...}'", as libvirt writes them)
// flattened to QEMU's dotted keys ("file.filename"), each with its JSON
// type, so that an option reads both of QEMU's syntaxes the same way.
#include "base/qemu_opts.h"

#include <string>
#include <string_view>
#include <vector>

namespace kestrel {

struct TypedKey {
    enum class Type { String, Bool, Number, Null, Object, Array };
    std::string key;    // dotted: "file.driver"
    std::string value;  // strings as they are; booleans "on"/"off"; numbers as written
    Type type = Type::String;
};

// Read with the JSON parser QMP uses (base/json). Throws ConfigError
// "JSON parse error, ..." as QEMU words it, and
// "Invalid parameter type for 'K', expected: ..." is left to the reader.
// An empty object member yields one entry of type Object; arrays one of
// type Array (no option here takes a list).
std::vector<TypedKey> flatten_json_object(std::string_view text);

// An option of scalar members only (-device, -netdev as libvirt writes
// them) as key=value pairs: booleans on/off, numbers as written; a nested
// object, array or null is refused.
qopts::SplitResult split_json_scalars(std::string_view text);

} // namespace kestrel
