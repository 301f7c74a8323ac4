// One JSON value from a whole text, as QEMU's qobject_from_json reads
// option values (texts checked against QEMU 7.2's -blockdev and -object).
#include "base/json/json_text.h"

#include <catch2/catch.hpp>

using namespace kestrel;

namespace {

std::string error_of(std::string_view text) {
    auto r = parse_json_text(text);
    auto* e = std::get_if<std::string>(&r);
    return e ? *e : "(value " + std::get<Json>(r).dump() + ")";
}

} // namespace

TEST_CASE("parse_json_text reads one value in QMP's grammar", "[json]") {
    auto r = parse_json_text(R"( {"a": {"b": [1, 2.5]}, 'c': true, "d": null} )");
    REQUIRE(std::holds_alternative<Json>(r));
    const Json& v = std::get<Json>(r);
    CHECK(v["a"]["b"][1].get<double>() == 2.5);
    CHECK(v["c"].get<bool>());
    CHECK(v["d"].is_null());
    CHECK(std::get<Json>(parse_json_text("  ")).is_null());
    CHECK(std::get<Json>(parse_json_text("42")).get<int>() == 42);   // a number ends at the end of input
}

TEST_CASE("parse_json_text errors as QEMU words them", "[json]") {
    CHECK(error_of(R"({"driver":"file",)") == "JSON parse error, premature EOI");
    CHECK(error_of("{\"a\":") == "JSON parse error, premature EOI");
    CHECK(error_of("{} {}") == "Expecting at most one JSON value");
    CHECK(error_of("{\"a\" 1}").rfind("JSON parse error, ", 0) == 0);
    CHECK(error_of("{\"a\":1,}").rfind("JSON parse error, ", 0) == 0);
    CHECK(error_of("{\"a\":\"unterminated").rfind("JSON parse error, ", 0) == 0);
    CHECK(error_of("{\"a\":1} x") == "Expecting at most one JSON value");   // QEMU: a second (bad) value
}
