#pragma once
// QEMU's grammar for option values: "key=value,key=value" lists where the
// first element may omit its key (the implied key, e.g. "-m 512" is
// "-m size=512"), ",," stands for a literal comma inside a value, and typed
// values (booleans, sizes with k/M/G/T/P/E suffixes, numbers).
//
// Two flavours exist in QEMU and both are needed for matching its errors:
// QemuOpts (-m, -smp, -rtc, -name, -accel) and keyval (-machine, -display).
// Errors are thrown as ConfigError with QEMU's message and no location; the
// option handler adds "-opt value: " where QEMU does.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel::qopts {

// What a value was in a JSON option ("-device '{...}'"): QEMU checks it
// against the property's type there, where key=value text is parsed.
enum class JsonValue : uint8_t { NotJson, String, Bool, Integer, Float };

struct OptPair {
    std::string key;
    std::string value;
    bool short_form = false;  // QemuOpts "foo"/"nofoo" meaning foo=on/off (deprecated)
    JsonValue json = JsonValue::NotJson;
};

enum class Syntax {
    QemuOpts,  // a bare non-first "foo" is the boolean foo=on ("nofoo": off)
    Keyval,    // every element but the implied first one needs "key="
};

struct SplitResult {
    std::vector<OptPair> pairs;
    bool help = false;  // keyval: the first element was "help" or "?"
};

// Splits `text` into pairs in order. An empty text yields no pairs.
SplitResult split(std::string_view text, std::string_view implied_key, Syntax syntax);

// The deprecation warning QEMU prints for a short-form boolean.
std::string short_form_warning(const OptPair& pair);

// QEMU's boolean spellings: on/yes/true/y and off/no/false/n.
std::optional<bool> to_bool(std::string_view value);
bool parse_bool(std::string_view key, std::string_view value);  // throws

// strtoull-like: leading blanks, optional sign (a '-' wraps modulo 2^64),
// base prefix 0x (hex) or 0 (octal), and nothing after the digits.
std::optional<uint64_t> to_u64(std::string_view text);
uint64_t parse_number(std::string_view key, std::string_view value);  // throws

// A byte count with an optional B/K/M/G/T/P/E suffix (case-insensitive,
// powers of 1024) and an optional decimal fraction when a suffix > B is
// given ("1.5G"). `warning` receives QEMU's deprecation text for a suffix
// on a hex number ("0x10M"), if any.
enum class SizeStatus { Ok, Invalid, OutOfRange };
SizeStatus to_size(std::string_view text, uint64_t& result, std::string* warning = nullptr);
uint64_t parse_size(std::string_view key, std::string_view value, std::string* warning = nullptr);  // throws

} // namespace kestrel::qopts
