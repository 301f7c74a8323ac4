#include "base/json/json_parser.h"

#include <cerrno>
#include <cstdlib>
#include <unordered_set>

namespace kestrel {

namespace {

struct ParseError {
    std::string text;
};

void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Reads the 4 hex digits after "\u" at s[i]; advances i past them.
unsigned read_hex4(const std::string& s, size_t& i) {
    size_t start = i;
    unsigned cp = 0;
    for (int k = 0; k < 4; k++) {
        int h = i < s.size() ? hex_value(s[i]) : -1;
        if (i < s.size())
            i++;
        if (h < 0)
            throw ParseError{"\\u" + s.substr(start, i - start) + " is not a valid Unicode character"};
        cp = cp << 4 | static_cast<unsigned>(h);
    }
    return cp;
}

unsigned read_unicode_escape(const std::string& s, size_t& i) {
    size_t start = i;
    unsigned cp = read_hex4(s, i);
    auto invalid = [&] {
        return ParseError{"\\u" + s.substr(start, 4) + " is not a valid Unicode character"};
    };
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        throw invalid();
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (s.compare(i, 2, "\\u") != 0)
            throw invalid();
        i += 2;
        unsigned low = read_hex4(s, i);
        if (low < 0xDC00 || low > 0xDFFF)
            throw invalid();
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    return cp;
}

// Copies one raw UTF-8 sequence (modified UTF-8: "\xC0\x80" is U+0000).
void copy_utf8(const std::string& s, size_t& i, std::string& out) {
    auto byte = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
    unsigned c = byte(i);
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    unsigned cp = len == 1 ? c : c & (0x7F >> len);
    bool ok = c < 0x80 || (c >= 0xC0 && c < 0xF8);
    for (size_t k = 1; ok && k < len; k++) {
        ok = (byte(i + k) & 0xC0) == 0x80;
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    static constexpr unsigned kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    bool modified_nul = len == 2 && c == 0xC0 && cp == 0;
    if (!ok || (len > 1 && cp < kMin[len] && !modified_nul) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        throw ParseError{"invalid UTF-8 sequence in string"};
    append_utf8(out, cp);
    i += len;
}

std::string decode_string(const std::string& token) {
    std::string out;
    size_t end = token.size() - 1;   // the closing quote
    for (size_t i = 1; i < end;) {
        if (token[i] != '\\') {
            copy_utf8(token, i, out);
            continue;
        }
        char e = token[i + 1];
        i += 2;
        switch (e) {
        case '"': case '\'': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, read_unicode_escape(token, i)); break;
        default: throw ParseError{"invalid escape sequence in string"};
        }
    }
    return out;
}

// QEMU keeps an integer as int64, else (positive) uint64, else double.
Json parse_integer(const std::string& text) {
    errno = 0;
    long long v = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == 0)
        return Json(static_cast<int64_t>(v));
    if (text[0] != '-') {
        errno = 0;
        unsigned long long u = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == 0)
            return Json(static_cast<uint64_t>(u));
    }
    return Json(std::strtod(text.c_str(), nullptr));
}

class Parser {
public:
    explicit Parser(const std::vector<JsonToken>& tokens) : tokens_(tokens) {}

    Json value() {
        const JsonToken* t = next();
        if (!t)
            throw ParseError{"premature EOI"};
        switch (t->kind) {
        case TokenKind::LeftBrace: return object();
        case TokenKind::LeftBracket: return array();
        case TokenKind::String: return Json(decode_string(t->text));
        case TokenKind::Integer: return parse_integer(t->text);
        case TokenKind::Float: return Json(std::strtod(t->text.c_str(), nullptr));
        case TokenKind::Keyword: return keyword(t->text);
        default: throw ParseError{"expecting value"};
        }
    }

private:
    const JsonToken* next() { return pos_ < tokens_.size() ? &tokens_[pos_++] : nullptr; }
    bool next_is(TokenKind kind) const { return pos_ < tokens_.size() && tokens_[pos_].kind == kind; }

    static Json keyword(const std::string& word) {
        if (word == "true") return Json(true);
        if (word == "false") return Json(false);
        if (word == "null") return Json(nullptr);
        throw ParseError{"invalid keyword '" + word + "'"};
    }

    Json object() {
        Json obj = Json::object();
        std::unordered_set<std::string> keys;
        if (next_is(TokenKind::RightBrace)) {
            pos_++;
            return obj;
        }
        while (true) {
            Json key = value();
            if (!key.is_string())
                throw ParseError{"key is not a string in object"};
            const JsonToken* colon = next();
            if (!colon || colon->kind != TokenKind::Colon)
                throw ParseError{"missing : in object pair"};
            Json v = value();
            if (!keys.insert(key.get_ref<const std::string&>()).second)
                throw ParseError{"duplicate key"};
            obj.get_ref<Json::object_t&>().emplace_back(key.get<std::string>(), std::move(v));
            const JsonToken* sep = next();
            if (sep && sep->kind == TokenKind::RightBrace)
                return obj;
            if (!sep || sep->kind != TokenKind::Comma)
                throw ParseError{"expected separator in dict"};
        }
    }

    Json array() {
        Json arr = Json::array();
        if (next_is(TokenKind::RightBracket)) {
            pos_++;
            return arr;
        }
        while (true) {
            arr.push_back(value());
            const JsonToken* sep = next();
            if (sep && sep->kind == TokenKind::RightBracket)
                return arr;
            if (!sep || sep->kind != TokenKind::Comma)
                throw ParseError{"expected separator in list"};
        }
    }

    const std::vector<JsonToken>& tokens_;
    size_t pos_ = 0;
};

} // namespace

std::variant<Json, std::string> parse_json_tokens(const std::vector<JsonToken>& tokens) {
    try {
        return Parser(tokens).value();
    } catch (const ParseError& e) {
        return e.text;
    }
}

} // namespace kestrel
