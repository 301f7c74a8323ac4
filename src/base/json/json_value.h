#pragma once
// JSON values as kestrel holds them (QMP messages, JSON option values):
// objects keep their members in insertion order.
#include <nlohmann/json.hpp>

namespace kestrel {

using Json = nlohmann::ordered_json;

} // namespace kestrel
