// Command line parsing: -serial, -display/-nographic, -daemonize, -rtc,
// -name, -uuid, -d/-D, -kernel/-initrd/-append, flags, and the promise
// that parsing touches no files.
#include "parse_helpers.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace kestrel;
using namespace kestrel::test;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/kestrel-config-test-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::string file(const std::string& name, const std::string& content) const {
        std::string p = path + "/" + name;
        std::ofstream(p) << content;
        return p;
    }
};

bool exists(const std::string& path) {
    struct stat sb{};
    return stat(path.c_str(), &sb) == 0;
}

const ChardevConfig& chardev(const Config& c, const std::string& id) {
    for (const ChardevConfig& d : c.chardevs)
        if (d.id == id) return d;
    throw std::runtime_error("no chardev " + id);
}

std::string backends(const Config& c) {
    std::string s;
    for (const std::string& id : c.serials) {
        const ChardevConfig& d = chardev(c, id);
        s += d.id + "=" + (d.mux ? "mon:" : "") + d.backend + (d.path.empty() ? "" : ":" + d.path) + " ";
    }
    return s;
}

} // namespace

TEST_CASE("parser: -serial fills COM1..COM4 in order", "[config][parser][serial]") {
    Config c = parse_ok({"-serial", "null", "-serial", "file:/tmp/a,b", "-serial", "mon:stdio"});
    CHECK(backends(c) == "serial0=null serial1=file:/tmp/a,b serial2=mon:stdio ");
    CHECK(backends(parse_ok({"-serial", "none"})).empty());
    CHECK(backends(parse_ok({"-serial", "none", "-serial", "stdio"})) == "serial0=stdio ");
    CHECK(backends(parse_ok({"-nodefaults"})).empty());
    CHECK(backends(parse_ok({"-nodefaults", "-serial", "null"})) == "serial0=null ");
    CHECK(parse_ok({"-serial", "null", "-serial", "null", "-serial", "null", "-serial", "null"})
              .serials.size() == 4);
    CHECK(parse_error({"-serial", "null", "-serial", "null", "-serial", "null", "-serial", "null",
                       "-serial", "null"}) ==
          "-serial null: too many serial ports (the pc machine has 4)");
}

TEST_CASE("parser: -serial errors", "[config][parser][serial]") {
    CHECK(parse_error({"-serial", "foo"}) == "-serial foo: 'foo' is not a valid char driver");
    CHECK(parse_error({"-serial", ""}) == "-serial : '' is not a valid char driver");
    CHECK(parse_error({"-serial", "stdio,foo"}) ==
          "-serial stdio,foo: 'stdio,foo' is not a valid char driver");
    CHECK(parse_error({"-serial", "mon:foo"}) == "-serial mon:foo: 'foo' is not a valid char driver");
    CHECK(parse_error({"-serial", "file:"}) ==
          "-serial file:: Could not open '': No such file or directory");
    CHECK(parse_error({"-serial", "vc"}) ==
          "-serial vc: character backend 'vc' is not supported by kestrel");
    CHECK(parse_error({"-serial", "/dev/ttyS0"}) ==
          "-serial /dev/ttyS0: character backend 'serial' is not supported by kestrel");
    CHECK(parse_error({"-serial", "stdio", "-serial", "stdio"}) ==
          "-serial stdio: cannot use stdio by multiple character devices");
}

TEST_CASE("parser: -nographic puts serial and monitor on stdio", "[config][parser][serial]") {
    Config c = parse_ok({"-nographic"});
    CHECK(c.display == DisplayKind::Nographic);
    CHECK(backends(c) == "serial0=mon:stdio ");
    REQUIRE(c.monitors.size() == 1);
    CHECK(c.monitors[0].chardev == "serial0");
    c = parse_ok({"-nographic", "-serial", "null"});
    CHECK(backends(c) == "serial0=null ");
    REQUIRE(c.monitors.size() == 1);
    CHECK(chardev(c, c.monitors[0].chardev).backend == "stdio");
    CHECK(parse_error({"-nographic", "-serial", "stdio"}) ==
          "-serial stdio: cannot use stdio by multiple character devices");
    c = parse_ok({"-nographic", "-nodefaults", "-serial", "stdio"});
    CHECK(backends(c) == "serial0=stdio ");
    CHECK(c.monitors.empty());
    CHECK(parse_ok({"-nographic", "-display", "none"}).display == DisplayKind::Nographic);
}

TEST_CASE("parser: -daemonize and stdio", "[config][parser][serial]") {
    CHECK(parse_error({"-nographic", "-daemonize"}) == "-nographic cannot be used with -daemonize");
    CHECK(parse_error({"-daemonize", "-serial", "stdio"}) ==
          "-serial stdio: cannot use stdio with -daemonize");
    CHECK(parse_error({"-daemonize", "-serial", "mon:stdio"}) ==
          "-serial mon:stdio: cannot use stdio with -daemonize");
    Config c = parse_ok({"-daemonize"});
    CHECK(c.daemonize);
    CHECK(backends(c) == "serial0=null ");  // QEMU's default "vc" is just as invisible
    c = parse_ok({"-daemonize", "-nographic", "-nodefaults", "-serial", "null"});
    CHECK(backends(c) == "serial0=null ");
}

TEST_CASE("parser: -display", "[config][parser]") {
    CHECK(parse_ok({"-display", "none"}).display == DisplayKind::None);
    CHECK(parse_ok({"-display", "type=none"}).display == DisplayKind::None);
    CHECK(parse_error({"-display", "gtk"}) == "Display 'gtk' is not available.");
    REQUIRE(parse_ok({"-display", "vnc=:3"}).vnc);
    CHECK(parse_ok({"-display", "vnc=:3"}).vnc->display == 3);
    CHECK(parse_error({"-display", "vnc"}) == "-display vnc: VNC requires a display argument vnc=<display>");
    CHECK(parse_error({"-display", "foo"}) ==
          "-display foo: Parameter 'type' does not accept value 'foo'");
    CHECK(parse_error({"-display", ""}) == "-display : Parameter 'type' is missing");
    CHECK(parse_error({"-display", "none,foo=1"}) ==
          "-display none,foo=1: Parameter 'foo' is unexpected");
}

TEST_CASE("parser: -rtc", "[config][parser][rtc]") {
    Config c = parse_ok({"-rtc", "base=localtime,clock=vm,driftfix=slew"});
    CHECK(c.rtc.base == RtcConfig::Base::Localtime);
    CHECK(c.rtc.clock == "vm");
    CHECK(c.rtc.driftfix == "slew");
    c = parse_ok({"-rtc", "base=2006-06-17T16:01:21"});
    CHECK(c.rtc.base == RtcConfig::Base::Date);
    CHECK(c.rtc.date == 1150560081);
    CHECK(parse_ok({"-rtc", "base=2006-06-17"}).rtc.date == 1150502400);
    CHECK(parse_ok({"-rtc", "base=utc", "-rtc", "clock=rt"}).rtc.clock == "rt");  // merged
    CHECK(parse_error({"-rtc", "base=foo"}) == "invalid datetime format");
    CHECK(parse_error({"-rtc", "clock=foo"}) == "invalid option value 'foo'");
    CHECK(parse_error({"-rtc", "driftfix=foo"}) == "invalid option value 'foo'");
    CHECK(parse_error({"-rtc", "foo=1"}) == "-rtc foo=1: Invalid parameter 'foo'");
    CHECK(parse_error({"-rtc", "utc"}) == "-rtc utc: Invalid parameter 'utc'");
}

TEST_CASE("parser: -name and -uuid", "[config][parser]") {
    CHECK(parse_ok({"-name", "vm1"}).name == "vm1");
    CHECK(parse_ok({"-name", "a,,b"}).name == "a,b");
    Config c = parse_ok({"-name", "guest=vm2,process=kvm-vm2,debug-threads=on"});
    CHECK(c.name == "vm2");
    CHECK(c.process_name == "kvm-vm2");
    CHECK(c.debug_threads);
    CHECK(parse_error({"-name", "foo,bar=1"}) == "-name foo,bar=1: Invalid parameter 'bar'");
    CHECK(parse_error({"-name", "x,debug-threads=maybe"}) ==
          "-name x,debug-threads=maybe: Parameter 'debug-threads' expects 'on' or 'off'");

    CHECK(parse_ok({"-uuid", "12345678-9ABC-def0-1234-56789abcdef0"}).uuid ==
          "12345678-9abc-def0-1234-56789abcdef0");
    for (const char* bad : {"foo", "12345678123412341234123456789ABC",
                            "12345678-1234-1234-1234-1234567890aG",
                            "12345678-1234-1234-1234-1234567890abc"})
        CHECK(parse_error({"-uuid", bad}) ==
              std::string("-uuid ") + bad + ": failed to parse UUID string: wrong format");
}

TEST_CASE("parser: -d and -D", "[config][parser][log]") {
    Config c = parse_ok({"-d", "guest_errors,unimp,int,cpu_reset", "-D", "/tmp/x.log"});
    CHECK(c.log_items == std::vector<std::string>{"guest_errors", "unimp", "int", "cpu_reset"});
    CHECK(c.logfile == "/tmp/x.log");
    CHECK(parse_ok({"-d", "foo", "-d", "unimp"}).log_items == std::vector<std::string>{"unimp"});
    CHECK(parse_ok({"-d", "all", "-D", "/tmp/log%d"}).log_items.size() == 19);
    CHECK(parse_error({"-d", "foo"}) == "-d foo: unknown log item 'foo' (use -d help for a list)");
    CHECK(parse_error({"-d", "int,,unimp"}) ==
          "-d int,,unimp: unknown log item '' (use -d help for a list)");
    CHECK(parse_error({"-d", "trace:foo"}) == "-d trace:foo: trace events are not supported by kestrel");
    CHECK(parse_error({"-d", "tid"}) == "Filename template with '%d' required for 'tid'");
    CHECK(parse_error({"-d", "all", "-D", "/tmp/x"}) ==
          "Filename template with '%d' required for 'tid'");
}

TEST_CASE("parser: flags", "[config][parser]") {
    Config c = parse_ok({"-no-reboot", "-no-shutdown", "-S", "-pidfile", "/run/x.pid",
                         "-nodefaults", "-no-reboot"});
    CHECK(c.no_reboot);
    CHECK(c.no_shutdown);
    CHECK(c.start_paused);
    CHECK(c.nodefaults);
    CHECK(c.pidfile == "/run/x.pid");
}

TEST_CASE("parser: -kernel, -initrd, -append", "[config][parser][boot]") {
    TempDir dir;
    std::string kernel = dir.file("bzImage", "kernel");
    std::string initrd = dir.file("initrd", "initrd");
    Config c = parse_ok({"-kernel", kernel, "-initrd", initrd, "-append", "a", "-append",
                         "console=ttyS0 quiet"});
    CHECK(c.boot.kernel == kernel);
    CHECK(c.boot.initrd == initrd);
    CHECK(c.boot.append == "console=ttyS0 quiet");  // last wins

    CHECK(parse_error({"-append", "x"}) == "-append only allowed with -kernel option");
    CHECK(parse_error({"-initrd", initrd}) == "-initrd only allowed with -kernel option");
    CHECK(parse_error({"-kernel", dir.path + "/none"}) ==
          "could not open kernel file '" + dir.path + "/none': No such file or directory");
    CHECK(parse_error({"-kernel", ""}) == "could not open kernel file '': No such file or directory");
    CHECK(parse_error({"-kernel", dir.path}) ==
          "could not load kernel '" + dir.path + "': Is a directory");
    // -initrd may be a multiboot module list: the kernel's loader checks it.
    CHECK(parse_ok({"-kernel", kernel, "-initrd", dir.path + "/none,x"}).boot.initrd == dir.path + "/none,x");
}

TEST_CASE("parser: no side effects, even for accepted command lines", "[config][parser]") {
    TempDir dir;
    std::string pidfile = dir.path + "/pid";
    std::string serial = dir.path + "/serial.log";
    std::string log = dir.path + "/debug.log";
    std::string existing = dir.file("existing.log", "keep me");
    std::vector<std::string> args{"-pidfile", pidfile, "-serial", "file:" + serial, "-serial",
                                  "file:" + existing, "-D", log, "-d", "guest_errors"};
    CHECK(run_parser(args).config);
    args.insert(args.end(), {"-m", "foo"});
    CHECK_FALSE(run_parser(args).error.empty());
    CHECK_FALSE(exists(pidfile));
    CHECK_FALSE(exists(serial));
    CHECK_FALSE(exists(log));
    std::ifstream in(existing);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == "keep me");
}
