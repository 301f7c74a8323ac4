#pragma once
// JSON values as QMP sees them, and QEMU's way of printing them.
//
// QEMU keeps objects in a 512-bucket hash table and prints them in bucket
// order (the later-inserted key first within a bucket), so every reply's
// key order follows from the key names and the order the schema inserts
// them. Building values as ordered_json in schema order and printing them
// here reproduces QEMU's bytes: {"status": ..., "singlestep": ..., "running": ...}.
#include "base/json/json_value.h"

#include <string>
#include <vector>

namespace kestrel::qmp {

// The keys of `object` in the order QEMU would print (and iterate) them.
std::vector<std::string> qemu_key_order(const Json& object);

// Compact: {"a": 1, "b": [1, 2]}. Pretty: 4-space indentation, an empty
// object is "{\n<indent>}". Strings are escaped as QEMU does (non-ASCII as
// \uXXXX, invalid UTF-8 as \uFFFD); floats are printed with %.17g. Lines
// end in "\n" (the session turns them into "\r\n").
std::string to_qemu_json(const Json& value, bool pretty = false);

} // namespace kestrel::qmp
