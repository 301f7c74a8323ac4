#include "base/json/json_stream.h"

namespace kestrel {

JsonStream::JsonStream(Sink sink)
    : sink_(std::move(sink)), lexer_([this](TokenKind k, const std::string& t) { on_token(k, t); }) {}

void JsonStream::feed(std::span<const uint8_t> data) {
    for (uint8_t c : data) {
        lexer_.feed(c);
        if (lexer_.pending_size() + token_bytes_ + 1 > kMaxTokenBytes) {
            lexer_.reset();
            fail("JSON token size limit exceeded");
        }
    }
}

void JsonStream::reset() {
    lexer_.reset();
    clear();
}

void JsonStream::clear() {
    tokens_.clear();
    tokens_.shrink_to_fit();
    token_bytes_ = 0;
    braces_ = brackets_ = 0;
}

void JsonStream::fail(const std::string& desc) {
    clear();
    sink_(Json(), &desc);
}

void JsonStream::on_token(TokenKind kind, const std::string& text) {
    switch (kind) {
    case TokenKind::LeftBrace: braces_++; break;
    case TokenKind::RightBrace: braces_--; break;
    case TokenKind::LeftBracket: brackets_++; break;
    case TokenKind::RightBracket: brackets_--; break;
    case TokenKind::Error: fail("JSON parse error, stray '" + text + "'"); return;
    default: break;
    }
    if (token_bytes_ + text.size() + 1 > kMaxTokenBytes)
        return fail("JSON token size limit exceeded");
    if (tokens_.size() + 1 > kMaxTokenCount)
        return fail("JSON token count limit exceeded");
    if (braces_ + brackets_ > kMaxNesting)
        return fail("JSON nesting depth limit exceeded");
    tokens_.push_back({kind, text});
    token_bytes_ += text.size();
    if ((braces_ > 0 || brackets_ > 0) && braces_ >= 0 && brackets_ >= 0)
        return;
    parse_pending();
}

void JsonStream::flush() {
    lexer_.flush();
    if (!tokens_.empty())
        parse_pending();
}

void JsonStream::parse_pending() {
    auto result = parse_json_tokens(tokens_);
    clear();
    if (auto* error = std::get_if<std::string>(&result)) {
        std::string desc = "JSON parse error, " + *error;
        sink_(Json(), &desc);
    } else {
        sink_(std::move(std::get<Json>(result)), nullptr);
    }
}

} // namespace kestrel
