#include "chardev/chardev_set.h"
#include "chardev_test_util.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {
ChardevConfig config(const std::string& id, const std::string& backend, std::map<std::string, std::string> options = {},
                     bool mux = false) {
    ChardevConfig cfg;
    cfg.id = id;
    cfg.backend = backend;
    cfg.options = std::move(options);
    cfg.mux = mux;
    return cfg;
}
} // namespace

TEST_CASE("chardev set: opens in order, claims, query-chardev info", "[chardev]") {
    TempDir dir;
    EventLoop loop;
    std::string sock = dir.path + "/q";
    ChardevSet set({config("n", "null"), config("f", "file", {{"path", dir.path + "/log"}}),
                    config("mon", "socket", {{"path", sock}, {"server", "on"}, {"wait", "off"}}, true)},
                   loop);
    Chardev& n = set.claim("n");
    CHECK(n.filename() == "null");
    CHECK_THROWS_WITH(set.claim("n"), "Device 'n' is in use");
    CHECK_THROWS_WITH(set.claim("nope"), "chardev 'nope' not found");
    Chardev& v1 = set.claim("mon");
    Chardev& v2 = set.claim("mon");
    CHECK(&v1 != &v2);
    auto info = set.info();
    REQUIRE(info.size() == 4);
    CHECK(info[0].label == "n");
    CHECK(info[0].frontend_open);
    CHECK(info[1].label == "f");
    CHECK(info[1].filename == "file");
    CHECK(!info[1].frontend_open);
    CHECK(info[2].label == "mon");
    CHECK(info[2].filename == "mux");
    CHECK(info[3].label == "mon-base");
    CHECK(info[3].filename == "disconnected:unix:" + sock + ",server=on");
    Recorder fe;
    n.attach(&fe);
    CHECK(fe.events.empty());
    spin(loop);
    CHECK(fe.events.empty());  // QEMU's null backend never reports CHR_EVENT_OPENED
    CHECK_FALSE(n.connected());
    n.attach(nullptr);
}

TEST_CASE("chardev set: an open failure names the chardev", "[chardev]") {
    EventLoop loop;
    CHECK_THROWS_WITH(ChardevSet({config("x", "socket", {{"path", "/nonexistent/s"}, {"server", "on"}})}, loop),
                      "-chardev socket,id=x,path=/nonexistent/s,server=on: Failed to bind socket to "
                      "/nonexistent/s: No such file or directory");
}

TEST_CASE("chardev set: a shorthand's failure is prefixed with the option as typed", "[chardev]") {
    EventLoop loop;
    ChardevConfig qmp = config("compat_monitor0", "socket", {{"path", "/nonexistent/q"}, {"server", "on"},
                                                             {"wait", "off"}});
    qmp.location = "-qmp unix:/nonexistent/q,server=on,wait=off";
    CHECK_THROWS_WITH(ChardevSet({qmp}, loop), "-qmp unix:/nonexistent/q,server=on,wait=off: Failed to bind "
                                               "socket to /nonexistent/q: No such file or directory");
}
