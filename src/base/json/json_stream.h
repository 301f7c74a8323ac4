#pragma once
// Splits a QMP byte stream into JSON values: counts braces and brackets
// over the tokens, parses once they balance, and reports each value or
// each error ("JSON parse error, ...", "JSON nesting depth limit exceeded")
// then carries on with the next input, as QEMU 7.2's json-streamer does.
#include "base/json/json_lexer.h"
#include "base/json/json_parser.h"

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

class JsonStream {
public:
    // Called with a parsed value, or with an error desc (value is null).
    using Sink = std::function<void(Json value, const std::string* error)>;

    static constexpr size_t kMaxTokenBytes = size_t{64} << 20;
    static constexpr size_t kMaxTokenCount = size_t{2} << 20;
    static constexpr int kMaxNesting = 1024;

    explicit JsonStream(Sink sink);
    void feed(std::span<const uint8_t> data);
    void reset();   // forget a half-received message (client went away)
    void flush();   // end of input: what is pending is parsed (an error then)

private:
    void on_token(TokenKind kind, const std::string& text);
    void fail(const std::string& desc);
    void parse_pending();
    void clear();

    Sink sink_;
    JsonLexer lexer_;
    std::vector<JsonToken> tokens_;
    size_t token_bytes_ = 0;
    int braces_ = 0, brackets_ = 0;
};

} // namespace kestrel
