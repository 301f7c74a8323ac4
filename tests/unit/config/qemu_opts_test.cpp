#include "config/parser.h"
#include "base/qemu_opts.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::qopts;

namespace {

std::vector<std::pair<std::string, std::string>> pairs_of(const SplitResult& r) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const OptPair& p : r.pairs)
        out.emplace_back(p.key, p.value);
    return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string error_of(auto&& fn) {
    try {
        fn();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("QemuOpts: the first element without '=' is the implied key", "[config][qopts]") {
    CHECK(pairs_of(split("512", "size", Syntax::QemuOpts)) == Pairs{{"size", "512"}});
    CHECK(pairs_of(split("1G,slots=2,maxmem=4G", "size", Syntax::QemuOpts)) ==
          Pairs{{"size", "1G"}, {"slots", "2"}, {"maxmem", "4G"}});
    CHECK(pairs_of(split("size=1G", "size", Syntax::QemuOpts)) == Pairs{{"size", "1G"}});
    // An empty first element is still the implied value ("-m ,size=5").
    CHECK(pairs_of(split(",size=5", "size", Syntax::QemuOpts)) == Pairs{{"size", ""}, {"size", "5"}});
    CHECK(split("", "size", Syntax::QemuOpts).pairs.empty());
    CHECK(pairs_of(split("512,", "size", Syntax::QemuOpts)) == Pairs{{"size", "512"}});
}

TEST_CASE("QemuOpts: ',,' is a literal comma in values and the implied value", "[config][qopts]") {
    CHECK(pairs_of(split("foo,,bar", "guest", Syntax::QemuOpts)) == Pairs{{"guest", "foo,bar"}});
    CHECK(pairs_of(split("guest=a,,b,,,process=p", "guest", Syntax::QemuOpts)) ==
          Pairs{{"guest", "a,b,"}, {"process", "p"}});
    CHECK(pairs_of(split("size=1G,,", "size", Syntax::QemuOpts)) == Pairs{{"size", "1G,"}});
    CHECK(pairs_of(split("guest=x=y", "guest", Syntax::QemuOpts)) == Pairs{{"guest", "x=y"}});
}

TEST_CASE("QemuOpts: bare later elements are deprecated short-form booleans", "[config][qopts]") {
    SplitResult r = split("base=utc,clock,nodrift", "", Syntax::QemuOpts);
    REQUIRE(r.pairs.size() == 3);
    CHECK_FALSE(r.pairs[0].short_form);
    CHECK(r.pairs[1].key == "clock");
    CHECK(r.pairs[1].value == "on");
    CHECK(r.pairs[1].short_form);
    CHECK(r.pairs[2].key == "drift");
    CHECK(r.pairs[2].value == "off");
    CHECK(short_form_warning(r.pairs[2]) ==
          "short-form boolean option 'nodrift' deprecated; please use drift=off instead");
    // Without an implied key even the first bare element is a boolean.
    CHECK(pairs_of(split("utc", "", Syntax::QemuOpts)) == Pairs{{"utc", "on"}});
}

TEST_CASE("keyval: keys need '=' except the implied first one", "[config][qopts]") {
    CHECK(pairs_of(split("pc,accel=kvm", "type", Syntax::Keyval)) ==
          Pairs{{"type", "pc"}, {"accel", "kvm"}});
    CHECK(pairs_of(split("type=pc,accel=kvm:tcg", "type", Syntax::Keyval)) ==
          Pairs{{"type", "pc"}, {"accel", "kvm:tcg"}});
    CHECK(pairs_of(split("pc,kernel=a,,b", "type", Syntax::Keyval)) ==
          Pairs{{"type", "pc"}, {"kernel", "a,b"}});
    CHECK(error_of([] { split("pc,usb", "type", Syntax::Keyval); }) ==
          "Expected '=' after parameter 'usb'");
    CHECK(error_of([] { split(",pc", "type", Syntax::Keyval); }) == "Invalid parameter ''");
    CHECK(error_of([] { split("pc,,x", "type", Syntax::Keyval); }) == "Invalid parameter ''");
    CHECK(error_of([] { split("pc,u!b=1", "type", Syntax::Keyval); }) == "Invalid parameter 'u!b'");
    CHECK(split("", "type", Syntax::Keyval).pairs.empty());
}

TEST_CASE("keyval: a bare first 'help' or '?' asks for help", "[config][qopts]") {
    CHECK(split("help", "type", Syntax::Keyval).help);
    CHECK(split("?", "type", Syntax::Keyval).help);
    CHECK_FALSE(split("type=help", "type", Syntax::Keyval).help);
    CHECK(error_of([] { split("help,foo", "type", Syntax::Keyval); }) ==
          "Expected '=' after parameter 'foo'");
}

TEST_CASE("booleans: QEMU's spellings", "[config][qopts]") {
    for (const char* yes : {"on", "yes", "true", "y"})
        CHECK(to_bool(yes) == true);
    for (const char* no : {"off", "no", "false", "n"})
        CHECK(to_bool(no) == false);
    CHECK_FALSE(to_bool("maybe"));
    CHECK_FALSE(to_bool("ON"));
    CHECK_FALSE(to_bool(""));
    CHECK(error_of([] { parse_bool("usb", "maybe"); }) == "Parameter 'usb' expects 'on' or 'off'");
}

TEST_CASE("numbers: strtoull rules with base prefixes", "[config][qopts]") {
    CHECK(to_u64("42") == 42u);
    CHECK(to_u64(" +42") == 42u);
    CHECK(to_u64("0x10") == 16u);
    CHECK(to_u64("010") == 8u);
    CHECK(to_u64("0") == 0u);
    CHECK(to_u64("-1") == UINT64_MAX);
    CHECK(to_u64("18446744073709551615") == UINT64_MAX);
    CHECK_FALSE(to_u64("18446744073709551616"));
    CHECK_FALSE(to_u64(""));
    CHECK_FALSE(to_u64("4k"));
    CHECK_FALSE(to_u64("1.5"));
    CHECK_FALSE(to_u64("08"));
    CHECK_FALSE(to_u64("0x"));
    CHECK(error_of([] { parse_number("slots", "x"); }) == "Parameter 'slots' expects a number");
}

TEST_CASE("sizes: suffixes are powers of 1024, case-insensitive", "[config][qopts]") {
    CHECK(parse_size("size", "512") == 512u);
    CHECK(parse_size("size", "1b") == 1u);
    CHECK(parse_size("size", "1k") == 1024u);
    CHECK(parse_size("size", "1K") == 1024u);
    CHECK(parse_size("size", "2m") == 2u << 20);
    CHECK(parse_size("size", "1G") == 1ull << 30);
    CHECK(parse_size("size", "1t") == 1ull << 40);
    CHECK(parse_size("size", "1P") == 1ull << 50);
    CHECK(parse_size("size", "15E") == 15ull << 60);
    CHECK(parse_size("size", "1.5G") == 3ull << 29);
    CHECK(parse_size("size", "0.5k") == 512u);
    CHECK(parse_size("size", " 5") == 5u);
    CHECK(parse_size("size", "+5M") == 5u << 20);
}

TEST_CASE("sizes: hex, and the forms QEMU rejects", "[config][qopts]") {
    std::string warning;
    CHECK(parse_size("size", "0x100", &warning) == 256u);
    CHECK(warning.empty());
    CHECK(parse_size("size", "0x10M", &warning) == 16u << 20);
    CHECK(warning == "Using a multiplier suffix on hex numbers is deprecated: 0x10M");

    const std::string invalid = "Parameter 'size' expects a non-negative number below 2^64";
    for (const char* bad : {"foo", "", "-5", "1.5", "1.5b", "1X", "1 G", "5 ", "1k5", ".5k", "0x1.5G"})
        CHECK(error_of([&] { parse_size("size", bad); }) == invalid);
    CHECK(error_of([] { parse_size("size", "16E"); }) ==
          "Value '16E' is out of range for parameter 'size'");
    CHECK(error_of([] { parse_size("maxmem", "99999999999999999999"); }) ==
          "Value '99999999999999999999' is out of range for parameter 'maxmem'");
}
