#include "monitor/qmp/qmp_json.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace kestrel::qmp {

namespace {

constexpr unsigned kQdictBuckets = 512;

// The gdbm/tdb string hash QEMU's QDict uses to pick a bucket.
unsigned qdict_bucket(const std::string& key) {
    uint32_t value = 0x238F13AFu * static_cast<uint32_t>(key.size());
    for (size_t i = 0; i < key.size(); i++)
        value += static_cast<uint32_t>(static_cast<unsigned char>(key[i])) << (i * 5 % 24);
    return (1103515243u * value + 12345u) % kQdictBuckets;
}

void append_codepoint_escape(std::string& out, unsigned cp) {
    char buf[16];
    if (cp > 0xFFFF) {
        cp -= 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04X\\u%04X", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
    } else {
        std::snprintf(buf, sizeof buf, "\\u%04X", cp);
    }
    out += buf;
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when invalid.
// "\xC0\x80" is accepted as U+0000 (QEMU strings are modified UTF-8).
size_t decode_utf8(const std::string& s, size_t i, unsigned& cp) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned c = byte(i);
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || c >= 0xF8 || i + len > s.size())
        return 0;
    cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        if ((byte(i + k) & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    if (len == 2 && cp == 0 && c == 0xC0)
        return 2;
    static constexpr unsigned kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void append_string(std::string& out, const std::string& s) {
    out += '"';
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        switch (c) {
        case '"': out += "\\\""; i++; continue;
        case '\\': out += "\\\\"; i++; continue;
        case '\b': out += "\\b"; i++; continue;
        case '\f': out += "\\f"; i++; continue;
        case '\n': out += "\\n"; i++; continue;
        case '\r': out += "\\r"; i++; continue;
        case '\t': out += "\\t"; i++; continue;
        default: break;
        }
        if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
            i++;
        } else if (c < 0x80) {
            append_codepoint_escape(out, c);
            i++;
        } else {
            unsigned cp = 0;
            size_t len = decode_utf8(s, i, cp);
            append_codepoint_escape(out, len ? cp : 0xFFFD);
            i += len ? len : 1;
        }
    }
    out += '"';
}

void append_number(std::string& out, const Json& v) {
    if (v.is_number_float()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
        out += buf;
    } else if (v.is_number_unsigned()) {
        out += std::to_string(v.get<uint64_t>());
    } else {
        out += std::to_string(v.get<int64_t>());
    }
}

void append_indent(std::string& out, bool pretty, int level) {
    if (pretty)
        out.append("\n").append(static_cast<size_t>(level) * 4, ' ');
}

void append_value(std::string& out, const Json& v, bool pretty, int level);

// Positions in the object's insertion order, sorted into QEMU's order.
std::vector<size_t> key_order_indices(const Json& object) {
    const auto& items = object.get_ref<const Json::object_t&>();
    std::vector<size_t> index(items.size());
    std::iota(index.begin(), index.end(), size_t{0});
    std::vector<unsigned> bucket(items.size());
    for (size_t i = 0; i < items.size(); i++)
        bucket[i] = qdict_bucket((items.begin() + static_cast<std::ptrdiff_t>(i))->first);
    std::sort(index.begin(), index.end(), [&](size_t a, size_t b) {
        return bucket[a] != bucket[b] ? bucket[a] < bucket[b] : a > b;
    });
    return index;
}

void append_container(std::string& out, const Json& v, bool pretty, int level) {
    bool object = v.is_object();
    out += object ? '{' : '[';
    bool first = true;
    auto separator = [&] {
        if (!first)
            out += pretty ? "," : ", ";
        first = false;
        append_indent(out, pretty, level + 1);
    };
    if (object) {
        const auto& items = v.get_ref<const Json::object_t&>();
        for (size_t i : key_order_indices(v)) {
            separator();
            const auto& item = *(items.begin() + static_cast<std::ptrdiff_t>(i));
            append_string(out, item.first);
            out += ": ";
            append_value(out, item.second, pretty, level + 1);
        }
    } else {
        for (const Json& element : v) {
            separator();
            append_value(out, element, pretty, level + 1);
        }
    }
    if (pretty)
        append_indent(out, pretty, level);
    out += object ? '}' : ']';
}

void append_value(std::string& out, const Json& v, bool pretty, int level) {
    switch (v.type()) {
    case Json::value_t::object:
    case Json::value_t::array: append_container(out, v, pretty, level); break;
    case Json::value_t::string: append_string(out, v.get_ref<const std::string&>()); break;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: append_number(out, v); break;
    default: out += "null"; break;
    }
}

} // namespace

std::vector<std::string> qemu_key_order(const Json& object) {
    const auto& items = object.get_ref<const Json::object_t&>();
    std::vector<std::string> keys;
    for (size_t i : key_order_indices(object))
        keys.push_back((items.begin() + static_cast<std::ptrdiff_t>(i))->first);
    return keys;
}

std::string to_qemu_json(const Json& value, bool pretty) {
    std::string out;
    append_value(out, value, pretty, 0);
    return out;
}

} // namespace kestrel::qmp
