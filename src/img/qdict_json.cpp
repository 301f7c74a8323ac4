#include "img/qdict_json.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace kestrel::img {

namespace {

constexpr unsigned kBuckets = 512;  // QEMU's QDICT_BUCKET_MAX

// QEMU's tdb_hash of a QDict key.
unsigned bucket_of(const std::string& key) {
    uint32_t value = uint32_t(0x238F13AF) * uint32_t(key.size());
    for (size_t i = 0; i < key.size(); i++)
        value += uint32_t(static_cast<unsigned char>(key[i])) << (i * 5 % 24);
    return (uint32_t(1103515243) * value + 12345) % kBuckets;
}

// One code point from UTF-8 at s[i] (advancing i); U+FFFD for bad bytes.
uint32_t next_code_point(const std::string& s, size_t& i) {
    auto c = static_cast<unsigned char>(s[i++]);
    if (c < 0x80) return c;
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
    if (extra < 0) return 0xfffd;
    uint32_t cp = c & (0x3f >> extra);
    for (int k = 0; k < extra; k++) {
        if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) return 0xfffd;
        cp = cp << 6 | (static_cast<unsigned char>(s[i++]) & 0x3f);
    }
    return cp;
}

void append_u(std::string& out, uint32_t unit) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04X", unsigned(unit));
    out += buf;
}

} // namespace

std::string json_quote(const std::string& s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size();) {
        uint32_t cp = next_code_point(s, i);
        switch (cp) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (cp >= 0x20 && cp < 0x7f) {
                out += char(cp);
            } else if (cp >= 0x10000) {  // surrogate pair
                cp -= 0x10000;
                append_u(out, 0xd800 | (cp >> 10));
                append_u(out, 0xdc00 | (cp & 0x3ff));
            } else {
                append_u(out, cp);
            }
        }
    }
    return out + "\"";
}

Json& Json::set(const std::string& key, Json value) {
    for (auto& m : members_) {
        if (m.first == key) {
            m.second = std::move(value);
            return *this;
        }
    }
    members_.emplace_back(key, std::move(value));
    return *this;
}

Json& Json::push(Json value) {
    items_.push_back(std::move(value));
    return *this;
}

std::vector<const std::pair<std::string, Json>*> Json::ordered_members() const {
    std::vector<const std::pair<std::string, Json>*> out;
    std::vector<std::pair<unsigned, size_t>> keys;
    for (size_t i = 0; i < members_.size(); i++) keys.emplace_back(bucket_of(members_[i].first), i);
    // Bucket ascending; within a bucket the newest member first.
    std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    for (const auto& k : keys) out.push_back(&members_[k.second]);
    return out;
}

void Json::write(std::string& out, int indent, bool pretty) const {
    auto newline = [&](int level) {
        if (!pretty) return;
        out += '\n';
        out.append(size_t(level) * 4, ' ');
    };
    char buf[64];
    switch (kind_) {
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += bool_ ? "true" : "false"; break;
    case Kind::Int:
        std::snprintf(buf, sizeof buf, "%" PRId64, int_);
        out += buf;
        break;
    case Kind::Uint:
        std::snprintf(buf, sizeof buf, "%" PRIu64, uint_);
        out += buf;
        break;
    case Kind::Double:
        std::snprintf(buf, sizeof buf, "%.17g", double_);
        out += buf;
        break;
    case Kind::String: out += json_quote(string_); break;
    case Kind::Object: {
        out += '{';
        bool first = true;
        for (const auto* m : ordered_members()) {
            out += first ? "" : pretty ? "," : ", ";
            first = false;
            newline(indent + 1);
            out += json_quote(m->first) + ": ";
            m->second.write(out, indent + 1, pretty);
        }
        if (!first) newline(indent);
        out += '}';
        break;
    }
    case Kind::Array: {
        out += '[';
        bool first = true;
        for (const Json& item : items_) {
            out += first ? "" : pretty ? "," : ", ";
            first = false;
            newline(indent + 1);
            item.write(out, indent + 1, pretty);
        }
        if (!first) newline(indent);
        out += ']';
        break;
    }
    }
}

std::string Json::pretty() const {
    std::string out;
    write(out, 0, true);
    return out;
}

std::string Json::compact() const {
    std::string out;
    write(out, 0, false);
    return out;
}

} // namespace kestrel::img
