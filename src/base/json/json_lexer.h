#pragma once
// QMP's JSON tokenizer, fed byte by byte as input arrives in any chunks.
// Follows QEMU 7.2's lexer: single-quoted strings are accepted, bytes
// 0xFE/0xFF and control characters are never part of a token, and after a
// bad token the input is skipped up to the next structural character or
// control character (other than tab) so a client can resynchronize.
#include <cstdint>
#include <functional>
#include <string>

namespace kestrel {

enum class TokenKind : uint8_t {
    LeftBrace, RightBrace, LeftBracket, RightBracket, Colon, Comma,
    String, Integer, Float, Keyword,
    Error,   // text = the offending bytes, reported as "stray '...'"
};

class JsonLexer {
public:
    using TokenSink = std::function<void(TokenKind, const std::string& text)>;
    explicit JsonLexer(TokenSink sink) : sink_(std::move(sink)) {}

    void feed(uint8_t c);
    void flush();   // end of input: a number or keyword ends, any other open token is an error
    void reset();
    size_t pending_size() const { return token_.size(); }

private:
    enum class State : uint8_t {
        Start, DqString, DqEscape, SqString, SqEscape, Zero, Sign, Digits,
        Mantissa, MantissaDigits, ExpE, ExpSign, ExpDigits, Keyword, Recovery,
    };
    bool step(uint8_t c);   // false: c must be looked at again from Start
    bool start(uint8_t c);
    bool in_string(uint8_t c, char quote, State escape);
    bool in_number(uint8_t c);
    static constexpr size_t kKeptCapacity = 64 * 1024;
    void clear_token();
    void emit(TokenKind kind);
    void fail(uint8_t c);
    void finish(TokenKind kind) { emit(kind); state_ = State::Start; }

    TokenSink sink_;
    State state_ = State::Start;
    std::string token_;
};

} // namespace kestrel
