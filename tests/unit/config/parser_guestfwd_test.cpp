// -netdev user's guestfwd= rules to a chardev: the chardev QEMU 7.2 makes
// for each ("guestfwd.tcp.PORT" from a -serial-style spec, or a -chardev
// named by chardev:ID) and its errors, with QEMU's texts.
#include "parse_helpers.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

Config with_netdev(const std::string& netdev, std::vector<std::string> more = {}) {
    std::vector<std::string> args{"-nodefaults", "-netdev", netdev};
    args.insert(args.end(), more.begin(), more.end());
    return parse_ok(args);
}

std::string error_with(const std::string& netdev, std::vector<std::string> more = {}) {
    std::vector<std::string> args{"-nodefaults"};
    args.insert(args.end(), more.begin(), more.end());
    args.insert(args.end(), {"-netdev", netdev});
    return parse_error(args);
}

const ChardevConfig* find(const Config& c, const std::string& id) {
    for (const ChardevConfig& d : c.chardevs)
        if (d.id == id) return &d;
    return nullptr;
}

} // namespace

TEST_CASE("guestfwd: a chardev spec makes the chardev guestfwd.tcp.PORT", "[config][usernet]") {
    const std::string netdev = "user,id=n,guestfwd=tcp:10.0.2.100:5555-tcp:127.0.0.1:4444,,reconnect=1";
    Config c = with_netdev(netdev);
    const ChardevConfig* d = find(c, "guestfwd.tcp.5555");
    REQUIRE(d);
    CHECK(d->backend == "socket");
    CHECK(d->options.at("host") == "127.0.0.1");
    CHECK(d->options.at("port") == "4444");
    CHECK(d->options.at("reconnect") == "1");
    CHECK(d->location == "-netdev " + netdev);
    CHECK(d->open_failure == "Could not open guest forwarding device 'guestfwd.tcp.5555'");
    REQUIRE(c.netdevs.size() == 1);
    CHECK(c.netdevs[0].user.guestfwd[0] == "tcp:10.0.2.100:5555-tcp:127.0.0.1:4444,reconnect=1");

    // cmd: rules make none; chardev:ID uses the -chardev; mon: adds a monitor.
    c = with_netdev("user,id=n,guestfwd=tcp:10.0.2.100:1-cmd:cat,guestfwd=tcp:10.0.2.101:2-chardev:c0,"
                    "guestfwd=tcp:10.0.2.102:3-mon:null",
                    {"-chardev", "null,id=c0"});
    CHECK(!find(c, "guestfwd.tcp.1"));
    CHECK(!find(c, "guestfwd.tcp.2"));
    REQUIRE(find(c, "guestfwd.tcp.3"));
    CHECK(find(c, "guestfwd.tcp.3")->mux);
    REQUIRE(c.monitors.size() == 1);
    CHECK(c.monitors[0].chardev == "guestfwd.tcp.3");
}

TEST_CASE("guestfwd: bad devices, in QEMU's words", "[config][usernet]") {
    const std::string at = "-netdev user,id=n,guestfwd=";
    auto cannot_open = [&](const std::string& rule, const std::string& port) {
        return at + rule + ": Could not open guest forwarding device 'guestfwd.tcp." + port + "'";
    };
    CHECK(error_with("user,id=n,guestfwd=tcp:10.0.2.100:1234-bogus") ==
          at + "tcp:10.0.2.100:1234-bogus: 'bogus' is not a valid char driver\n" +
              cannot_open("tcp:10.0.2.100:1234-bogus", "1234"));
    CHECK(error_with("user,id=n,guestfwd=tcp:10.0.2.100:1234-") ==
          at + "tcp:10.0.2.100:1234-: '' is not a valid char driver\n" + cannot_open("tcp:10.0.2.100:1234-", "1234"));
    CHECK(error_with("user,id=n,guestfwd=tcp:10.0.2.100:1234-chardev:nope") ==
          cannot_open("tcp:10.0.2.100:1234-chardev:nope", "1234"));
    CHECK(error_with("user,id=n,guestfwd=tcp:10.0.2.100:7-tcp:nohost") == cannot_open("tcp:10.0.2.100:7-tcp:nohost", "7"));
    CHECK(error_with("user,id=n,guestfwd=tcp:10.0.2.100:0-null") ==
          at + "tcp:10.0.2.100:0-null: Invalid guest forwarding rule 'tcp:10.0.2.100:0-null'");
    // Two rules on one port: the second chardev's label is taken (the last rule is made first).
    const std::string two = "user,id=n,guestfwd=tcp:10.0.2.100:1234-null,guestfwd=tcp:10.0.2.101:1234-null";
    CHECK(error_with(two) == "-netdev " + two +
                                 ": attempt to add duplicate property 'guestfwd.tcp.1234' to object (type "
                                 "'container')\n-netdev " + two +
                                 ": Could not open guest forwarding device 'guestfwd.tcp.1234'");
    // A -chardev of that id.
    CHECK(error_with("user,id=n,guestfwd=tcp:10.0.2.100:1234-null", {"-chardev", "null,id=guestfwd.tcp.1234"}) ==
          at + "tcp:10.0.2.100:1234-null: Duplicate ID 'guestfwd.tcp.1234' for chardev\n" +
              cannot_open("tcp:10.0.2.100:1234-null", "1234"));
    // A -chardev two rules name: in use (no second line).
    const std::string twice = "user,id=n,guestfwd=tcp:10.0.2.100:1-chardev:c0,guestfwd=tcp:10.0.2.101:1-chardev:c0";
    CHECK(error_with(twice, {"-chardev", "null,id=c0"}) == "-netdev " + twice + ": Device 'c0' is in use");
}
