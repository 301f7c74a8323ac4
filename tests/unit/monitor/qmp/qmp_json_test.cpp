#include "base/json/json_stream.h"
#include "monitor/qmp/qmp_json.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::qmp;

namespace {

// Every value or error the stream reports for `input`, printed compactly.
std::vector<std::string> stream_all(const std::string& input, size_t chunk = 0) {
    std::vector<std::string> out;
    JsonStream stream([&](Json v, const std::string* error) {
        out.push_back(error ? "ERR " + *error : to_qemu_json(v));
    });
    auto bytes = reinterpret_cast<const uint8_t*>(input.data());
    if (chunk == 0)
        chunk = input.size();
    for (size_t i = 0; i < input.size(); i += chunk)
        stream.feed(std::span(bytes + i, std::min(chunk, input.size() - i)));
    return out;
}

} // namespace

TEST_CASE("QMP printer orders keys as QEMU's QDict does", "[qmp]") {
    // Schema insertion order in, QEMU's printed order out (both seen from
    // qemu-system-x86_64 7.2).
    Json status = Json::object();
    status["running"] = false;
    status["singlestep"] = false;
    status["status"] = "prelaunch";
    CHECK(to_qemu_json(status) == R"({"status": "prelaunch", "singlestep": false, "running": false})");
    Json triple = Json::object();
    triple["major"] = 7;
    triple["minor"] = 2;
    triple["micro"] = 0;
    CHECK(to_qemu_json(triple) == R"({"micro": 0, "minor": 2, "major": 7})");
    CHECK(to_qemu_json(Json{{"label", "a"}, {"filename", "b"}, {"frontend-open", true}}) ==
          R"({"frontend-open": true, "filename": "b", "label": "a"})");
    CHECK(to_qemu_json(Json{{"error", 1}, {"id", 2}}) == R"({"id": 2, "error": 1})");
    CHECK(to_qemu_json(Json{{"return", 1}, {"id", 2}}) == R"({"return": 1, "id": 2})");
}

TEST_CASE("QMP printer escapes and formats as QEMU", "[qmp]") {
    CHECK(to_qemu_json(Json("a/b\xc3\xa9\x01\x7f\t\"\\")) == R"("a/b\u00E9\u0001\u007F\t\"\\")");
    CHECK(to_qemu_json(Json("\xf0\x9f\x98\x80")) == R"("\uD83D\uDE00")");
    CHECK(to_qemu_json(Json("\xff")) == R"("\uFFFD")");
    CHECK(to_qemu_json(Json(0.1)) == "0.10000000000000001");
    CHECK(to_qemu_json(Json(1000.0)) == "1000");
    CHECK(to_qemu_json(Json(uint64_t{12345678901234567890u})) == "12345678901234567890");
    CHECK(to_qemu_json(Json{1, Json::object(), Json::array(), nullptr}) == "[1, {}, [], null]");
}

TEST_CASE("QMP pretty printing indents by four like QEMU", "[qmp]") {
    Json v = Json{{"return", Json::object()}, {"id", Json::array({1, Json::object()})}};
    CHECK(to_qemu_json(v, true) ==
          "{\n    \"return\": {\n    },\n    \"id\": [\n        1,\n        {\n        }\n    ]\n}");
}

TEST_CASE("JSON stream splits values across and within chunks", "[qmp]") {
    std::string input = " {\"a\": [1, 2.5, \"x\"]}\n\r\t{\"b\":{}}[true,false,null] 'sq\"' 7";
    std::vector<std::string> expected = {R"({"a": [1, 2.5, "x"]})", R"({"b": {}})",
                                         "[true, false, null]", R"("sq\"")"};
    for (size_t chunk : {size_t{0}, size_t{1}, size_t{2}, size_t{7}})
        CHECK(stream_all(input, chunk) == expected);   // 7 waits for its end
    CHECK(stream_all(input + "\n").back() == "7");
}

TEST_CASE("JSON stream reports QEMU's parse errors and recovers", "[qmp]") {
    auto one = [](const std::string& s) {
        auto out = stream_all(s);
        return out.empty() ? std::string("(none)") : out.front();
    };
    CHECK(one("{execute:1}") == "ERR JSON parse error, invalid keyword 'execute'");
    CHECK(one("{\"a\" 1}") == "ERR JSON parse error, missing : in object pair");
    CHECK(one("{\"a\":1,}") == "ERR JSON parse error, expecting value");
    CHECK(one("[1 2]") == "ERR JSON parse error, expected separator in list");
    CHECK(one("{\"a\":1 \"b\":2}") == "ERR JSON parse error, expected separator in dict");
    CHECK(one("{1:2}") == "ERR JSON parse error, key is not a string in object");
    CHECK(one("{\"a\":1,\"a\":2}") == "ERR JSON parse error, duplicate key");
    CHECK(one("[\"\\x\"]") == "ERR JSON parse error, invalid escape sequence in string");
    CHECK(one("[\"\\uD800\"]") == "ERR JSON parse error, \\uD800 is not a valid Unicode character");
    CHECK(one("[\"\\u12\"]") == "ERR JSON parse error, \\u12\" is not a valid Unicode character");
    CHECK(one("[\"\xc3(\"]") == "ERR JSON parse error, invalid UTF-8 sequence in string");
    CHECK(one("}") == "ERR JSON parse error, expecting value");
    CHECK(one("%d\n") == "ERR JSON parse error, stray '%'");
    CHECK(stream_all("{\"a\":01}\n") ==
          std::vector<std::string>{"ERR JSON parse error, stray '01'", "ERR JSON parse error, expecting value"});
    CHECK(stream_all("{\"a\":1.}\n[2]") ==
          std::vector<std::string>{"ERR JSON parse error, stray '1.}'", "[2]"});
    // After a bad token input is skipped to a structural or control byte.
    CHECK(stream_all("01 \"x\"\n[3]") ==
          std::vector<std::string>{"ERR JSON parse error, stray '01'", "[3]"});
    CHECK(stream_all("{\"execute\":\"quer\xff{\"b\":1}") ==
          std::vector<std::string>{"ERR JSON parse error, stray '\"quer\xff'", R"({"b": 1})"});
}

TEST_CASE("JSON stream numbers keep QEMU's integer/float split", "[qmp]") {
    CHECK(stream_all("[-0.0, 1e3, 18446744073709551615, 18446744073709551616, -9223372036854775809]") ==
          std::vector<std::string>{"[-0, 1000, 18446744073709551615, 1.8446744073709552e+19, "
                                   "-9.2233720368547758e+18]"});
    CHECK(stream_all("[\"\\u0000\xc0\x80\"]") == std::vector<std::string>{R"(["\u0000\u0000"])"});
}

TEST_CASE("JSON stream limits nesting depth and recovers", "[qmp]") {
    std::string deep(1025, '[');
    CHECK(stream_all(deep + "\n{\"ok\":1}") ==
          std::vector<std::string>{"ERR JSON nesting depth limit exceeded", R"({"ok": 1})"});
    auto fine = stream_all(std::string(1024, '[') + std::string(1024, ']') + "{\"ok\":1}");
    REQUIRE(fine.size() == 2);
    CHECK(fine[1] == R"({"ok": 1})");
}
