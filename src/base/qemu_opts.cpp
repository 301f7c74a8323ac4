#include "base/qemu_opts.h"

#include "base/config_error.h"

#include <cctype>
#include <cmath>

namespace kestrel::qopts {

namespace {

// Reads a value up to the next single ',' ("a,,b" is "a,b"). Returns the
// number of characters consumed, including the terminating ','.
size_t read_value(std::string_view s, std::string& value) {
    size_t i = 0;
    while (i < s.size()) {
        if (s[i] == ',') {
            if (i + 1 < s.size() && s[i + 1] == ',') {
                value += ',';
                i += 2;
                continue;
            }
            return i + 1;
        }
        value += s[i++];
    }
    return i;
}

// Length of the leading key: up to the first '=' or ','.
size_t key_length(std::string_view s) {
    size_t n = s.find_first_of("=,");
    return n == std::string_view::npos ? s.size() : n;
}

bool has_equals_at(std::string_view s, size_t pos) {
    return pos < s.size() && s[pos] == '=';
}

bool valid_keyval_key(std::string_view key) {
    if (key.empty() || !std::isalpha(static_cast<unsigned char>(key[0])))
        return false;
    for (char c : key) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

SplitResult split_qemu_opts(std::string_view text, std::string_view implied_key) {
    SplitResult result;
    size_t pos = 0;
    bool first = true;
    while (pos < text.size()) {
        std::string_view rest = text.substr(pos);
        size_t len = key_length(rest);
        OptPair pair;
        if (!has_equals_at(rest, len)) {
            if (first && !implied_key.empty()) {
                pair.key = implied_key;
                pos += read_value(rest, pair.value);
            } else {
                std::string_view name = rest.substr(0, len);
                bool negated = name.substr(0, 2) == "no";
                pair.key = negated ? name.substr(2) : name;
                pair.value = negated ? "off" : "on";
                pair.short_form = true;
                pos += len + (len < rest.size() ? 1 : 0);
            }
        } else {
            pair.key = rest.substr(0, len);
            pos += len + 1 + read_value(rest.substr(len + 1), pair.value);
        }
        result.pairs.push_back(std::move(pair));
        first = false;
    }
    return result;
}

SplitResult split_keyval(std::string_view text, std::string_view implied_key) {
    SplitResult result;
    size_t pos = 0;
    bool first = true;
    while (pos < text.size()) {
        std::string_view rest = text.substr(pos);
        size_t len = key_length(rest);
        std::string_view key = rest.substr(0, len);
        if (len == 0 || (has_equals_at(rest, len) && !valid_keyval_key(key)))
            throw ConfigError("Invalid parameter '" + std::string(key) + "'");
        size_t after_key = len + (len < rest.size() ? 1 : 0);
        if (!has_equals_at(rest, len)) {
            if (!first || (implied_key.empty() && key != "help" && key != "?"))
                throw ConfigError("Expected '=' after parameter '" + std::string(key) + "'");
            if (key == "help" || key == "?")
                result.help = true;
            else
                result.pairs.push_back({std::string(implied_key), std::string(key)});
            pos += after_key;
        } else {
            OptPair pair;
            pair.key = key;
            pos += after_key + read_value(rest.substr(len + 1), pair.value);
            result.pairs.push_back(std::move(pair));
        }
        first = false;
    }
    return result;
}

// Parses decimal digits into `value`; false on overflow. Advances `i`.
bool read_decimal(std::string_view s, size_t& i, uint64_t& value) {
    value = 0;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
        unsigned digit = unsigned(s[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    return true;
}

int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

bool is_hex_prefix(std::string_view s, size_t i) {
    return i + 2 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
           digit_value(s[i + 2]) < 16;
}

// Digits in `base` starting at i; false on overflow or when there are none.
bool read_digits(std::string_view s, size_t& i, unsigned base, uint64_t& value) {
    size_t start = i;
    value = 0;
    for (; i < s.size() && unsigned(digit_value(s[i])) < base; ++i) {
        unsigned digit = unsigned(digit_value(s[i]));
        if (value > (UINT64_MAX - digit) / base)
            return false;
        value = value * base + digit;
    }
    return i > start;
}

size_t skip_blanks(std::string_view s) {
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
        ++i;
    return i;
}

uint64_t suffix_multiplier(char c) {
    switch (std::toupper(static_cast<unsigned char>(c))) {
    case 'B': return 1;
    case 'K': return 1ull << 10;
    case 'M': return 1ull << 20;
    case 'G': return 1ull << 30;
    case 'T': return 1ull << 40;
    case 'P': return 1ull << 50;
    case 'E': return 1ull << 60;
    default: return 0;
    }
}

} // namespace

SplitResult split(std::string_view text, std::string_view implied_key, Syntax syntax) {
    return syntax == Syntax::Keyval ? split_keyval(text, implied_key)
                                    : split_qemu_opts(text, implied_key);
}

std::string short_form_warning(const OptPair& pair) {
    std::string spelled = pair.value == "off" ? "no" + pair.key : pair.key;
    return "short-form boolean option '" + spelled + "' deprecated; please use " + pair.key +
           "=" + pair.value + " instead";
}

std::optional<bool> to_bool(std::string_view value) {
    if (value == "on" || value == "yes" || value == "true" || value == "y")
        return true;
    if (value == "off" || value == "no" || value == "false" || value == "n")
        return false;
    return std::nullopt;
}

bool parse_bool(std::string_view key, std::string_view value) {
    if (auto b = to_bool(value))
        return *b;
    throw ConfigError("Parameter '" + std::string(key) + "' expects 'on' or 'off'");
}

std::optional<uint64_t> to_u64(std::string_view text) {
    size_t i = skip_blanks(text);
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-'))
        negative = text[i++] == '-';
    unsigned base = 10;
    if (is_hex_prefix(text, i)) {
        base = 16;
        i += 2;
    } else if (i < text.size() && text[i] == '0') {
        base = 8;
    }
    uint64_t value = 0;
    if (!read_digits(text, i, base, value) || i != text.size())
        return std::nullopt;
    return negative ? 0 - value : value;
}

uint64_t parse_number(std::string_view key, std::string_view value) {
    if (auto n = to_u64(value))
        return *n;
    throw ConfigError("Parameter '" + std::string(key) + "' expects a number");
}

SizeStatus to_size(std::string_view text, uint64_t& result, std::string* warning) {
    size_t i = skip_blanks(text);
    if (i < text.size() && text[i] == '+')
        ++i;
    bool hex = is_hex_prefix(text, i);
    uint64_t whole = 0;
    double fraction = 0;
    bool has_fraction = false;
    if (hex) {
        i += 2;
        if (!read_digits(text, i, 16, whole))
            return SizeStatus::OutOfRange;
    } else {
        if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i])))
            return SizeStatus::Invalid;
        if (!read_decimal(text, i, whole))
            return SizeStatus::OutOfRange;
        if (i + 1 < text.size() && text[i] == '.' &&
            std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
            has_fraction = true;
            double scale = 0.1;
            for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
                fraction += (text[i] - '0') * scale;
                scale /= 10;
            }
        }
    }
    uint64_t multiplier = 1;
    bool has_suffix = i < text.size() && suffix_multiplier(text[i]) != 0;
    if (has_suffix)
        multiplier = suffix_multiplier(text[i++]);
    if (i != text.size() || (has_fraction && multiplier == 1))
        return SizeStatus::Invalid;
    if (hex && has_suffix && warning)
        *warning = "Using a multiplier suffix on hex numbers is deprecated: " + std::string(text);
    if (whole > UINT64_MAX / multiplier)
        return SizeStatus::OutOfRange;
    uint64_t bytes = whole * multiplier;
    double extra = std::floor(fraction * double(multiplier));
    if (extra > 0 && extra >= double(UINT64_MAX - bytes))
        return SizeStatus::OutOfRange;
    result = bytes + uint64_t(extra);
    return SizeStatus::Ok;
}

uint64_t parse_size(std::string_view key, std::string_view value, std::string* warning) {
    uint64_t result = 0;
    switch (to_size(value, result, warning)) {
    case SizeStatus::Ok:
        return result;
    case SizeStatus::OutOfRange:
        throw ConfigError("Value '" + std::string(value) + "' is out of range for parameter '" +
                          std::string(key) + "'");
    case SizeStatus::Invalid:
        break;
    }
    throw ConfigError("Parameter '" + std::string(key) +
                      "' expects a non-negative number below 2^64");
}

} // namespace kestrel::qopts
