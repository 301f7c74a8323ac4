#include "config/json_keys.h"

#include "base/config_error.h"

#include <cctype>

namespace kestrel {
namespace {

class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    void object(const std::string& prefix, std::vector<TypedKey>& out) {
        expect('{');
        skip_blanks();
        if (peek() == '}') {
            ++pos_;
            if (!prefix.empty()) out.push_back({prefix.substr(0, prefix.size() - 1), "", TypedKey::Type::Object});
            return;
        }
        for (;;) {
            skip_blanks();
            std::string key = string();
            skip_blanks();
            expect(':');
            member(prefix + key, out);
            skip_blanks();
            char c = next();
            if (c == '}') return;
            if (c != ',') fail("invalid token");
        }
    }

    void end() {
        skip_blanks();
        if (pos_ != text_.size()) fail("expecting end of input");  // QEMU: "Expecting a JSON object"
    }

private:
    void member(const std::string& key, std::vector<TypedKey>& out) {
        skip_blanks();
        char c = peek();
        if (c == '{') return object(key + ".", out);
        if (c == '"') return out.push_back({key, string(), TypedKey::Type::String});
        if (c == '[') return skip_array(key, out);
        if (word("true")) return out.push_back({key, "on", TypedKey::Type::Bool});
        if (word("false")) return out.push_back({key, "off", TypedKey::Type::Bool});
        if (word("null")) return out.push_back({key, "", TypedKey::Type::Null});
        out.push_back({key, number(), TypedKey::Type::Number});
    }

    void skip_array(const std::string& key, std::vector<TypedKey>& out) {
        expect('[');
        std::vector<TypedKey> ignored;
        skip_blanks();
        if (peek() != ']') {
            for (;;) {
                member(key, ignored);
                skip_blanks();
                char c = next();
                if (c == ']') break;
                if (c != ',') fail("invalid token");
            }
        } else {
            ++pos_;
        }
        out.push_back({key, "", TypedKey::Type::Array});
    }

    std::string string() {
        expect('"');
        std::string s;
        for (;;) {
            char c = next();
            if (c == '"') return s;
            if (c != '\\') {
                s += c;
                continue;
            }
            char e = next();
            switch (e) {
            case 'n': s += '\n'; break;
            case 't': s += '\t'; break;
            case 'r': s += '\r'; break;
            case 'b': s += '\b'; break;
            case 'f': s += '\f'; break;
            case 'u': s += unicode(); break;
            default: s += e;
            }
        }
    }

    std::string unicode() {
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            char h = next();
            if (!std::isxdigit(static_cast<unsigned char>(h))) fail("invalid escape sequence in string");
            code = code * 16 + unsigned(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        std::string s;
        if (code < 0x80) {
            s += char(code);
        } else if (code < 0x800) {
            s += char(0xc0 | (code >> 6));
            s += char(0x80 | (code & 0x3f));
        } else {
            s += char(0xe0 | (code >> 12));
            s += char(0x80 | ((code >> 6) & 0x3f));
            s += char(0x80 | (code & 0x3f));
        }
        return s;
    }

    std::string number() {
        size_t start = pos_;
        while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) ||
                                       std::string_view("+-.eE").find(text_[pos_]) != std::string_view::npos))
            ++pos_;
        if (pos_ == start) fail(pos_ == text_.size() ? "premature EOI" : "invalid token");
        return std::string(text_.substr(start, pos_ - start));
    }

    bool word(std::string_view w) {
        if (text_.substr(pos_, w.size()) != w) return false;
        pos_ += w.size();
        return true;
    }

    void skip_blanks() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    char peek() {
        if (pos_ >= text_.size()) fail("premature EOI");
        return text_[pos_];
    }
    char next() {
        char c = peek();
        ++pos_;
        return c;
    }
    void expect(char c) {
        skip_blanks();
        if (next() != c) fail("invalid token");
    }
    [[noreturn]] static void fail(const std::string& what) { throw ConfigError("JSON parse error, " + what); }

    std::string_view text_;
    size_t pos_ = 0;
};

} // namespace

std::vector<TypedKey> flatten_json_object(std::string_view text) {
    Reader reader(text);
    std::vector<TypedKey> out;
    reader.object("", out);
    reader.end();
    return out;
}

} // namespace kestrel
