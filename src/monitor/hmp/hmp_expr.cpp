#include "monitor/hmp/hmp_expr.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace kestrel {

namespace {

class ExprParser {
public:
    ExprParser(std::string_view& text, const HmpRegisterLookup& registers)
        : text_(text), registers_(registers) {}

    // expression := product (('+'|'-') product)*
    uint64_t sum() {
        uint64_t value = product();
        while (peek() == '+' || peek() == '-') {
            char op = take();
            uint64_t rhs = product();
            value = op == '+' ? value + rhs : value - rhs;
        }
        return value;
    }

private:
    // product := logic (('*'|'/'|'%') logic)*
    uint64_t product() {
        uint64_t value = logic();
        while (peek() == '*' || peek() == '/' || peek() == '%') {
            char op = take();
            uint64_t rhs = logic();
            if (op == '*') {
                value *= rhs;
                continue;
            }
            if (rhs == 0) throw HmpArgError("division by zero");
            value = op == '/' ? value / rhs : value % rhs;
        }
        return value;
    }

    // logic := unary (('&'|'|'|'^') unary)*
    uint64_t logic() {
        uint64_t value = unary();
        while (peek() == '&' || peek() == '|' || peek() == '^') {
            char op = take();
            uint64_t rhs = unary();
            value = op == '&' ? value & rhs : op == '|' ? value | rhs : value ^ rhs;
        }
        return value;
    }

    uint64_t unary() {
        switch (peek()) {
        case '+': take(); return unary();
        case '-': take(); return 0 - unary();
        case '~': take(); return ~unary();
        case '(': {
            take();
            uint64_t value = sum();
            if (peek() != ')') throw HmpArgError("')' expected");
            take();
            return value;
        }
        case '\'': return character();
        case '$': return reg();
        case '\0': throw HmpArgError("unexpected end of expression");
        default: return number();
        }
    }

    uint64_t character() {
        text_.remove_prefix(1);
        if (text_.empty()) throw HmpArgError("character constant expected");
        uint64_t value = static_cast<unsigned char>(text_.front());
        text_.remove_prefix(1);
        if (text_.empty() || text_.front() != '\'')
            throw HmpArgError("missing terminating ' character");
        text_.remove_prefix(1);
        skip_hmp_spaces(text_);
        return value;
    }

    uint64_t reg() {
        text_.remove_prefix(1);
        size_t n = 0;
        while (n < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[n])) ||
                                    text_[n] == '_' || text_[n] == '.'))
            ++n;
        std::string_view name = text_.substr(0, n);
        text_.remove_prefix(n);
        std::optional<uint64_t> value = registers_ ? registers_(name) : std::nullopt;
        if (!value) throw HmpArgError("unknown register");
        skip_hmp_spaces(text_);
        return *value;
    }

    // C notation as strtoull with base 0: 0x1f, 017, 42.
    uint64_t number() {
        std::string copy(text_);
        char* end = nullptr;
        errno = 0;
        unsigned long long value = std::strtoull(copy.c_str(), &end, 0);
        if (end == copy.c_str())
            throw HmpArgError(std::string("invalid char '") + copy[0] + "' in expression");
        if (errno == ERANGE) throw HmpArgError("number too large");
        text_.remove_prefix(static_cast<size_t>(end - copy.c_str()));
        skip_hmp_spaces(text_);
        return value;
    }

    char peek() const { return text_.empty() ? '\0' : text_.front(); }
    char take() {
        char c = text_.front();
        text_.remove_prefix(1);
        skip_hmp_spaces(text_);
        return c;
    }

    std::string_view& text_;
    const HmpRegisterLookup& registers_;
};

char unescape(char c) {
    switch (c) {
    case '\\': case '\'': case '"': return c;
    case 'n': return '\n';
    case 'r': return '\r';
    default: throw HmpArgError(std::string("unsupported escape code: '\\") + c + "'");
    }
}

std::string quoted_string(std::string_view& text) {
    std::string out;
    size_t i = 1;
    while (i < text.size() && text[i] != '"') {
        char c = text[i++];
        if (c == '\\') {
            if (i == text.size()) break;
            c = unescape(text[i++]);
        }
        out += c;
    }
    if (i >= text.size()) throw HmpArgError("unterminated string");
    text.remove_prefix(i + 1);
    return out;
}

} // namespace

void skip_hmp_spaces(std::string_view& text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
}

std::string_view take_hmp_word(std::string_view& text) {
    skip_hmp_spaces(text);
    size_t n = std::min(text.find_first_of(" \t"), text.size());
    std::string_view word = text.substr(0, n);
    text.remove_prefix(n);
    skip_hmp_spaces(text);
    return word;
}

uint64_t parse_hmp_expression(std::string_view& text, const HmpRegisterLookup& registers) {
    skip_hmp_spaces(text);
    return ExprParser(text, registers).sum();
}

std::optional<std::string> parse_hmp_string(std::string_view& text) {
    skip_hmp_spaces(text);
    if (text.empty()) return std::nullopt;
    if (text.front() == '"') return quoted_string(text);
    size_t n = 0;
    while (n < text.size() && !std::isspace(static_cast<unsigned char>(text[n]))) ++n;
    std::string word(text.substr(0, n));
    text.remove_prefix(n);
    return word;
}

} // namespace kestrel
