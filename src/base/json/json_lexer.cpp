#include "base/json/json_lexer.h"

#include <malloc.h>

namespace kestrel {

namespace {

bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

bool is_structural(uint8_t c) {
    return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':';
}

// Where error recovery stops and lexing starts again.
bool ends_recovery(uint8_t c) {
    return is_structural(c) || (c < 0x20 && c != '\t') || c >= 0xFE;
}

} // namespace

// A client's huge token (up to JsonStream's 64 MiB) must not stay
// allocated for the rest of the session; ordinary ones keep the buffer.
// Freeing is not enough: the buffer grew by doubling, glibc raised its mmap
// threshold as the smaller steps were freed, and up to twice that threshold
// of freed heap stays resident unless trimmed.
void JsonLexer::clear_token() {
    if (token_.capacity() > kKeptCapacity) {
        std::string().swap(token_);
        malloc_trim(0);
    } else {
        token_.clear();
    }
}

void JsonLexer::reset() {
    state_ = State::Start;
    clear_token();
}

void JsonLexer::feed(uint8_t c) {
    while (!step(c)) {
    }
}

void JsonLexer::flush() {
    switch (state_) {
    case State::Start:
    case State::Recovery: break;
    case State::Keyword: emit(TokenKind::Keyword); break;
    case State::Zero:
    case State::Digits: emit(TokenKind::Integer); break;
    case State::MantissaDigits:
    case State::ExpDigits: emit(TokenKind::Float); break;
    default: emit(TokenKind::Error); break;
    }
    state_ = State::Start;
}

void JsonLexer::emit(TokenKind kind) {
    sink_(kind, token_);
    clear_token();
}

void JsonLexer::fail(uint8_t c) {
    token_ += static_cast<char>(c);
    emit(TokenKind::Error);
    state_ = State::Recovery;
}

bool JsonLexer::step(uint8_t c) {
    switch (state_) {
    case State::Start: return start(c);
    case State::DqString: return in_string(c, '"', State::DqEscape);
    case State::SqString: return in_string(c, '\'', State::SqEscape);
    case State::DqEscape:
    case State::SqEscape:
        if (c < 0x20 || c > 0xFD) {
            fail(c);
        } else {
            token_ += static_cast<char>(c);
            state_ = state_ == State::DqEscape ? State::DqString : State::SqString;
        }
        return true;
    case State::Keyword:
        if (c >= 'a' && c <= 'z') {
            token_ += static_cast<char>(c);
            return true;
        }
        if (c >= 0x80) {
            fail(c);
            return true;
        }
        finish(TokenKind::Keyword);
        return false;
    case State::Recovery:
        if (ends_recovery(c)) {
            state_ = State::Start;
            return false;
        }
        return true;
    default: return in_number(c);
    }
}

bool JsonLexer::start(uint8_t c) {
    static constexpr struct { char c; TokenKind kind; } kStructural[] = {
        {'{', TokenKind::LeftBrace}, {'}', TokenKind::RightBrace},
        {'[', TokenKind::LeftBracket}, {']', TokenKind::RightBracket},
        {':', TokenKind::Colon}, {',', TokenKind::Comma},
    };
    for (const auto& s : kStructural) {
        if (c == static_cast<uint8_t>(s.c)) {
            token_ = s.c;
            emit(s.kind);
            return true;
        }
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        return true;
    State next = c == '"' ? State::DqString : c == '\'' ? State::SqString
               : c == '0' ? State::Zero : is_digit(c) ? State::Digits
               : c == '-' ? State::Sign : (c >= 'a' && c <= 'z') ? State::Keyword
               : State::Recovery;
    if (next == State::Recovery) {
        fail(c);
        return true;
    }
    token_ += static_cast<char>(c);
    state_ = next;
    return true;
}

bool JsonLexer::in_string(uint8_t c, char quote, State escape) {
    if (c < 0x20 || c > 0xFD) {
        fail(c);
        return true;
    }
    token_ += static_cast<char>(c);
    if (c == '\\')
        state_ = escape;
    else if (c == static_cast<uint8_t>(quote))
        finish(TokenKind::String);
    return true;
}

// Numbers as RFC 8259 has them. A state that may end a number ends it on
// any other ASCII byte (looked at again from Start); anything else is an
// error that swallows the offending byte, as QEMU's lexer does.
bool JsonLexer::in_number(uint8_t c) {
    State next = State::Recovery;
    TokenKind terminal = TokenKind::Error;
    switch (state_) {
    case State::Zero:
        terminal = TokenKind::Integer;
        next = c == '.' ? State::Mantissa : State::Recovery;
        if (is_digit(c))
            terminal = TokenKind::Error;
        break;
    case State::Sign:
        next = c == '0' ? State::Zero : is_digit(c) ? State::Digits : State::Recovery;
        break;
    case State::Digits:
        terminal = TokenKind::Integer;
        next = is_digit(c) ? State::Digits : (c == 'e' || c == 'E') ? State::ExpE
             : c == '.' ? State::Mantissa : State::Recovery;
        break;
    case State::Mantissa:
        next = is_digit(c) ? State::MantissaDigits : State::Recovery;
        break;
    case State::MantissaDigits:
        terminal = TokenKind::Float;
        next = is_digit(c) ? State::MantissaDigits
             : (c == 'e' || c == 'E') ? State::ExpE : State::Recovery;
        break;
    case State::ExpE:
        next = (c == '+' || c == '-') ? State::ExpSign : is_digit(c) ? State::ExpDigits
             : State::Recovery;
        break;
    case State::ExpSign:
        next = is_digit(c) ? State::ExpDigits : State::Recovery;
        break;
    default:   // ExpDigits
        terminal = TokenKind::Float;
        next = is_digit(c) ? State::ExpDigits : State::Recovery;
        break;
    }
    if (next != State::Recovery) {
        token_ += static_cast<char>(c);
        state_ = next;
        return true;
    }
    if (terminal != TokenKind::Error && c < 0x80) {
        finish(terminal);
        return false;
    }
    fail(c);
    return true;
}

} // namespace kestrel
