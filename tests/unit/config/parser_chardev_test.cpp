// Command line parsing of character devices and monitors: -chardev, the
// -serial/-monitor/-qmp/-qmp-pretty shorthands, -mon, and the defaults of
// -nographic / -nodefaults. Messages are QEMU 7.2's.
#include "parse_helpers.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

using namespace kestrel;
using namespace kestrel::test;

namespace {

using Options = std::map<std::string, std::string>;

const ChardevConfig& chardev(const Config& c, const std::string& id) {
    for (const ChardevConfig& d : c.chardevs)
        if (d.id == id) return d;
    throw std::runtime_error("no chardev " + id);
}

// "id=backend[:path][+mux]" for every chardev, in order.
std::string chardev_list(const Config& c) {
    std::string s;
    for (const ChardevConfig& d : c.chardevs)
        s += d.id + "=" + d.backend + (d.path.empty() ? "" : ":" + d.path) + (d.mux ? "+mux" : "") + " ";
    return s;
}

// "chardev/mode[/pretty]" for every monitor, in order.
std::string monitor_list(const Config& c) {
    std::string s;
    for (const MonitorConfig& m : c.monitors)
        s += m.chardev + (m.control ? "/control" : "/readline") + (m.pretty ? "/pretty" : "") + " ";
    return s;
}

std::string serial_list(const Config& c) {
    std::string s;
    for (const std::string& id : c.serials)
        s += id + " ";
    return s;
}

// Parses with -nodefaults so that only the given devices exist.
Config only(std::vector<std::string> args) {
    args.insert(args.begin(), "-nodefaults");
    return parse_ok(args);
}

std::string error_of(std::vector<std::string> args) {
    args.insert(args.begin(), "-nodefaults");
    return parse_error(args);
}

bool exists(const std::string& path) {
    struct stat sb{};
    return lstat(path.c_str(), &sb) == 0;
}

} // namespace

TEST_CASE("chardev: each backend's options", "[config][chardev]") {
    Config c = only({"-chardev", "null,id=n", "-chardev", "stdio,id=s,signal=off",
                     "-chardev", "file,id=f,path=/tmp/out,append=yes", "-chardev", "pipe,id=p,path=/tmp/fifo",
                     "-chardev", "pty,id=t", "-chardev", "udp,id=u,host=1.2.3.4,port=5000,localaddr=0.0.0.0,localport=5001"});
    CHECK(chardev_list(c) == "n=null s=stdio f=file:/tmp/out p=pipe:/tmp/fifo t=pty u=udp ");
    CHECK(chardev(c, "n").options.empty());
    CHECK(chardev(c, "s").options == Options{{"signal", "off"}});
    CHECK(chardev(c, "f").options == Options{{"path", "/tmp/out"}, {"append", "on"}});
    CHECK(chardev(c, "p").options == Options{{"path", "/tmp/fifo"}});
    CHECK(chardev(c, "u").options == Options{{"host", "1.2.3.4"}, {"port", "5000"},
                                             {"localaddr", "0.0.0.0"}, {"localport", "5001"}});
    CHECK(c.serials.empty());
    CHECK(c.monitors.empty());
    CHECK(c.warnings.empty());

    c = only({"-chardev", "socket,id=a,path=/tmp/s,server=on,wait=off",
              "-chardev", "socket,id=b,host=localhost,port=4444,server=on,wait=off,ipv4=on,nodelay=on,to=4450",
              "-chardev", "socket,id=c,host=::1,port=22,reconnect=0x10,mux=on"});
    CHECK(chardev(c, "a").path == "/tmp/s");
    CHECK(chardev(c, "a").options == Options{{"path", "/tmp/s"}, {"server", "on"}, {"wait", "off"}});
    CHECK(chardev(c, "b").path.empty());
    CHECK(chardev(c, "b").options == Options{{"host", "localhost"}, {"port", "4444"}, {"server", "on"},
                                             {"wait", "off"}, {"ipv4", "on"}, {"nodelay", "on"}, {"to", "4450"}});
    CHECK(chardev(c, "c").mux);
    CHECK(chardev(c, "c").options == Options{{"host", "::1"}, {"port", "22"}, {"reconnect", "16"}});
    CHECK(parse_ok({"-nodefaults", "-chardev", "socket,id=d,host=localhost,port=ssh"}).chardevs.size() == 1);
}

TEST_CASE("chardev: legacy short-form booleans become key=on|off", "[config][chardev]") {
    Config c = only({"-chardev", "socket,id=a,path=/tmp/s,server,nowait,nodelay"});
    CHECK(chardev(c, "a").options ==
          Options{{"path", "/tmp/s"}, {"server", "on"}, {"wait", "off"}, {"nodelay", "on"}});
    std::string at = "-chardev socket,id=a,path=/tmp/s,server,nowait,nodelay: warning: ";
    CHECK(c.warnings == std::vector<std::string>{
                            at + "short-form boolean option 'server' deprecated; please use server=on instead",
                            at + "short-form boolean option 'nowait' deprecated; please use wait=off instead",
                            at + "short-form boolean option 'nodelay' deprecated; please use nodelay=on instead"});
    CHECK(chardev(only({"-chardev", "null,id=a,mux"}), "a").mux);
    CHECK_FALSE(chardev(only({"-chardev", "null,id=a,nomux"}), "a").mux);
}

TEST_CASE("chardev: errors found while reading the option", "[config][chardev]") {
    CHECK(error_of({"-chardev", "null,id=a,foo=1"}) == "-chardev null,id=a,foo=1: Invalid parameter 'foo'");
    CHECK(error_of({"-chardev", "null,id=a,reconnect-ms=1"}) ==
          "-chardev null,id=a,reconnect-ms=1: Invalid parameter 'reconnect-ms'");
    CHECK(error_of({"-chardev", "null,id=a,mux=maybe"}) ==
          "-chardev null,id=a,mux=maybe: Parameter 'mux' expects 'on' or 'off'");
    CHECK(error_of({"-chardev", "socket,id=a,path=/x,server=2"}) ==
          "-chardev socket,id=a,path=/x,server=2: Parameter 'server' expects 'on' or 'off'");
    CHECK(error_of({"-chardev", "socket,id=a,reconnect=x"}) ==
          "-chardev socket,id=a,reconnect=x: Parameter 'reconnect' expects a number");
    CHECK(error_of({"-chardev", "null,id="}) == "-chardev null,id=: Parameter 'id' expects an identifier");
    CHECK(error_of({"-chardev", "null,id=1a"}) == "-chardev null,id=1a: Parameter 'id' expects an identifier");
    CHECK(error_of({"-chardev", "null,id=a", "-chardev", "null,id=a"}) ==
          "-chardev null,id=a: Duplicate ID 'a' for chardev");
    // These come before a later option's error, as in QEMU ...
    CHECK(error_of({"-chardev", "null,id=a,foo=1", "-m", "foo"}) ==
          "-chardev null,id=a,foo=1: Invalid parameter 'foo'");
    CHECK(error_of({"-chardev", "null,id=a", "-chardev", "pty,id=a", "-m", "foo"}) ==
          "-chardev pty,id=a: Duplicate ID 'a' for chardev");
    // ... and these after it: QEMU finds them when it creates the backend.
    CHECK(error_of({"-chardev", "foo,id=a", "-m", "foo"}).starts_with("-m foo: "));
}

TEST_CASE("chardev: errors found when the backend is created", "[config][chardev]") {
    CHECK(error_of({"-chardev", "null"}) == "-chardev null: chardev: no id specified");
    CHECK(error_of({"-chardev", "id=a"}) == "-chardev id=a: chardev: \"a\" missing backend");
    CHECK(error_of({"-chardev", "foo,id=x"}) == "-chardev foo,id=x: 'foo' is not a valid char driver name");
    CHECK(error_of({"-chardev", ",id=x"}) == "-chardev ,id=x: '' is not a valid char driver name");
    CHECK(error_of({"-chardev", "vc,id=x"}) ==
          "-chardev vc,id=x: character backend 'vc' is not supported by kestrel");
    CHECK(error_of({"-chardev", "file,id=a"}) == "-chardev file,id=a: chardev: file: no filename given");
    CHECK(error_of({"-chardev", "file,id=a,path="}) ==
          "-chardev file,id=a,path=: Could not open '': No such file or directory");
    CHECK(error_of({"-chardev", "pipe,id=a"}) == "-chardev pipe,id=a: chardev: pipe: no device path given");
    CHECK(error_of({"-chardev", "socket,id=a"}) == "-chardev socket,id=a: Unable to parse FD number ");
    CHECK(error_of({"-chardev", "socket,id=a,path=/x,host=y"}) ==
          "-chardev socket,id=a,path=/x,host=y: None or one of 'path', 'fd' or 'host' option required.");
    CHECK(error_of({"-chardev", "socket,id=a,host=localhost"}) ==
          "-chardev socket,id=a,host=localhost: chardev: socket: no port given");
    CHECK(error_of({"-chardev", "socket,id=a,path=/x,wait=off"}) ==
          "-chardev socket,id=a,path=/x,wait=off: 'wait' option is incompatible with socket in client connect mode");
    CHECK(error_of({"-chardev", "socket,id=a,path=/x,server=on,reconnect=1"}) ==
          "-chardev socket,id=a,path=/x,server=on,reconnect=1: 'reconnect' option is incompatible with "
          "socket in server listen mode");
    CHECK(error_of({"-chardev", "socket,id=a,host=localhost,port=abc"}) ==
          "-chardev socket,id=a,host=localhost,port=abc: address resolution failed for localhost:abc: "
          "Servname not supported for ai_socktype");
    CHECK(error_of({"-chardev", "socket,id=a,host=h,port=-1"}) ==
          "-chardev socket,id=a,host=h,port=-1: address resolution failed for h:-1: "
          "Servname not supported for ai_socktype");
    CHECK(error_of({"-chardev", "socket,id=a,host=h,port=65536"}).ends_with(
          "address resolution failed for h:65536: Servname not supported for ai_socktype"));
    CHECK(error_of({"-chardev", "udp,id=a"}) == "-chardev udp,id=a: chardev: udp: remote port not specified");
    CHECK(error_of({"-chardev", "udp,id=a,port=x"}) ==
          "-chardev udp,id=a,port=x: address resolution failed for localhost:x: Servname not supported for ai_socktype");
    CHECK(error_of({"-chardev", "udp,id=a,port=1,localport=x"}) ==
          "-chardev udp,id=a,port=1,localport=x: address resolution failed for (null):x: "
          "Servname not supported for ai_socktype");
}

TEST_CASE("chardev: options kestrel refuses", "[config][chardev]") {
    CHECK(error_of({"-chardev", "socket,id=a,path=/x,server=on,telnet=on"}) ==
          "-chardev socket,id=a,path=/x,server=on,telnet=on: option 'telnet' is not supported by kestrel");
    CHECK(error_of({"-chardev", "socket,id=a,host=h,port=1,websocket=on"}).ends_with(
          "option 'websocket' is not supported by kestrel"));
    CHECK(error_of({"-chardev", "socket,id=a,fd=x"}) == "-chardev socket,id=a,fd=x: Unable to parse FD number x");
    CHECK(error_of({"-chardev", "socket,id=a,fd=-1"}) == "-chardev socket,id=a,fd=-1: File descriptor '-1' is not a socket");
    CHECK(error_of({"-chardev", "null,id=a,logfile=/tmp/l"}) ==
          "-chardev null,id=a,logfile=/tmp/l: option 'logfile' is not supported by kestrel");
    CHECK(only({"-chardev", "socket,id=a,path=/x,server=on,wait=off,telnet=off"}).chardevs.size() == 1);
}

TEST_CASE("chardev: stdio has one user and none with -daemonize", "[config][chardev]") {
    CHECK(error_of({"-chardev", "stdio,id=a", "-chardev", "stdio,id=b"}) ==
          "-chardev stdio,id=b: cannot use stdio by multiple character devices");
    CHECK(error_of({"-monitor", "stdio", "-chardev", "stdio,id=b"}) ==
          "-chardev stdio,id=b: cannot use stdio by multiple character devices");
    CHECK(error_of({"-daemonize", "-chardev", "stdio,id=a"}) ==
          "-chardev stdio,id=a: cannot use stdio with -daemonize");
    CHECK(error_of({"-daemonize", "-qmp", "stdio"}) == "-qmp stdio: cannot use stdio with -daemonize");
    CHECK(parse_error({"-nographic", "-monitor", "stdio"}) == "cannot use stdio by multiple character devices");
    CHECK(error_of({"-serial", "mon:stdio", "-monitor", "stdio"}) ==
          "-serial mon:stdio: cannot use stdio by multiple character devices");
}

TEST_CASE("chardev: -chardev help lists kestrel's backends", "[config][chardev]") {
    ParseOutcome out = run_parser({"-chardev", "help"});
    CHECK_FALSE(out.config);
    CHECK(out.error.empty());
    CHECK(out.output ==
          "Available chardev backend types: \n  stdio\n  pipe\n  null\n  socket\n  udp\n  file\n  pty\n");
    CHECK(run_parser({"-chardev", "?"}).output == out.output);
}

TEST_CASE("chardev: -serial shorthands", "[config][chardev][serial]") {
    Config c = only({"-serial", "pty", "-serial", "pipe:/tmp/p", "-serial", "unix:/tmp/u,server,nowait",
                     "-serial", "tcp:localhost:4444,server=on,wait=off"});
    CHECK(chardev_list(c) == "serial0=pty serial1=pipe:/tmp/p serial2=socket:/tmp/u serial3=socket ");
    CHECK(serial_list(c) == "serial0 serial1 serial2 serial3 ");
    CHECK(chardev(c, "serial2").options == Options{{"path", "/tmp/u"}, {"server", "on"}, {"wait", "off"}});
    CHECK(chardev(c, "serial3").options ==
          Options{{"host", "localhost"}, {"port", "4444"}, {"server", "on"}, {"wait", "off"}});
    CHECK(c.warnings.size() == 2);
    CHECK(chardev(only({"-serial", "tcp::4444,server=on,wait=off"}), "serial0").options.at("host").empty());

    c = only({"-serial", "udp:1.2.3.4:5000@:6000", "-serial", "udp::5000", "-serial", "file:/tmp/f"});
    CHECK(chardev(c, "serial0").options ==
          Options{{"host", "1.2.3.4"}, {"port", "5000"}, {"localaddr", ""}, {"localport", "6000"}});
    CHECK(chardev(c, "serial1").options == Options{{"host", ""}, {"port", "5000"}});
    CHECK(chardev(c, "serial2").options == Options{{"path", "/tmp/f"}});

    c = only({"-serial", "mon:stdio"});
    CHECK(chardev_list(c) == "serial0=stdio+mux ");
    CHECK(chardev(c, "serial0").options == Options{{"signal", "off"}});
    CHECK(monitor_list(c) == "serial0/readline ");
    CHECK(chardev(only({"-serial", "mon:unix:/tmp/m,server=on,wait=off"}), "serial0").mux);
}

TEST_CASE("chardev: -serial shorthand errors", "[config][chardev][serial]") {
    CHECK(error_of({"-serial", "tcp:localhost"}) ==
          "-serial tcp:localhost: could not connect serial device to character backend 'tcp:localhost'");
    CHECK(error_of({"-serial", "udp:"}) == "-serial udp:: could not connect serial device to character backend 'udp:'");
    CHECK(error_of({"-serial", "udp::1234@"}) ==
          "-serial udp::1234@: could not connect serial device to character backend 'udp::1234@'");
    CHECK(error_of({"-serial", "tcp:localhost:4444,foo=1"}) ==
          "-serial tcp:localhost:4444,foo=1: Invalid parameter 'foo'");
    CHECK(error_of({"-serial", "pty:foo"}) == "-serial pty:foo: 'pty:foo' is not a valid char driver");
    CHECK(error_of({"-serial", "mon:chardev:a", "-chardev", "null,id=a"}) ==
          "-serial mon:chardev:a: 'chardev:a' is not a valid char driver");
    CHECK(error_of({"-serial", "udp::1234@:x"}) ==
          "-serial udp::1234@:x: address resolution failed for (null):x: Servname not supported for ai_socktype");
    CHECK(error_of({"-serial", "telnet::4444,server=on"}) ==
          "-serial telnet::4444,server=on: option 'telnet' is not supported by kestrel");
    CHECK(error_of({"-chardev", "null,id=serial0", "-serial", "null"}) ==
          "-serial null: Duplicate ID 'serial0' for chardev");
}

TEST_CASE("chardev: frontends on -chardev ids", "[config][chardev]") {
    Config c = only({"-serial", "chardev:a", "-chardev", "socket,id=a,path=/tmp/a,server=on,wait=off"});
    CHECK(serial_list(c) == "a ");
    CHECK(chardev_list(c) == "a=socket:/tmp/a ");
    CHECK(error_of({"-serial", "chardev:zz"}) ==
          "-serial chardev:zz: could not connect serial device to character backend 'chardev:zz'");
    CHECK(error_of({"-chardev", "null,id=a", "-serial", "chardev:a", "-serial", "chardev:a"}) ==
          "-serial chardev:a: Device 'a' is in use");
    CHECK(error_of({"-chardev", "null,id=a", "-mon", "chardev=a", "-mon", "chardev=a"}) ==
          "-mon chardev=a: Device 'a' is in use");
    CHECK(error_of({"-chardev", "null,id=a", "-mon", "a", "-serial", "chardev:a"}) ==
          "-serial chardev:a: Device 'a' is in use");

    c = only({"-chardev", "stdio,id=char0,mux=on,signal=off", "-serial", "chardev:char0", "-mon", "chardev=char0"});
    CHECK(chardev_list(c) == "char0=stdio+mux ");
    CHECK(serial_list(c) == "char0 ");
    CHECK(monitor_list(c) == "char0/readline ");
    std::vector<std::string> five{"-chardev", "null,id=m,mux=on"};
    for (int i = 0; i < 4; ++i) five.insert(five.end(), {"-serial", "chardev:m"});
    CHECK(only(five).serials.size() == 4);
    five.insert(five.end(), {"-mon", "m"});  // monitors attach before serial ports
    CHECK(error_of(five) == "-serial chardev:m: Device 'm' is in use");
}

TEST_CASE("chardev: -monitor, -qmp, -qmp-pretty", "[config][chardev][monitor]") {
    Config c = only({"-monitor", "unix:/tmp/m,server=on,wait=off", "-qmp", "unix:/tmp/q,server,nowait",
                     "-qmp-pretty", "tcp:127.0.0.1:4444,server=on,wait=off"});
    CHECK(chardev_list(c) == "compat_monitor0=socket:/tmp/m compat_monitor1=socket:/tmp/q compat_monitor2=socket ");
    CHECK(monitor_list(c) == "compat_monitor0/readline compat_monitor1/control compat_monitor2/control/pretty ");
    CHECK(c.serials.empty());

    // "chardev:" forms count too; -chardev and shorthand chardevs keep
    // command-line order, then serial ports.
    c = only({"-serial", "null", "-chardev", "null,id=z", "-monitor", "chardev:z", "-qmp", "null",
              "-chardev", "pty,id=y"});
    CHECK(chardev_list(c) == "z=null compat_monitor1=null y=pty serial0=null ");
    CHECK(monitor_list(c) == "z/readline compat_monitor1/control ");

    c = only({"-monitor", "none", "-monitor", "nonesuch"});
    CHECK(c.monitors.empty());
    CHECK(c.chardevs.empty());
    CHECK(chardev(only({"-monitor", "mon:null"}), "compat_monitor0").mux);
}

TEST_CASE("chardev: -monitor and -qmp errors", "[config][chardev][monitor]") {
    CHECK(error_of({"-qmp", "none"}) == "-qmp none: 'none' is not a valid char driver");
    CHECK(error_of({"-qmp-pretty", "none"}) == "-qmp-pretty none: 'none' is not a valid char driver");
    CHECK(error_of({"-qmp", "stdio,pretty=on"}) == "-qmp stdio,pretty=on: 'stdio,pretty=on' is not a valid char driver");
    CHECK(error_of({"-monitor", "tcp:localhost"}) == "-monitor tcp:localhost: parse error: tcp:localhost");
    CHECK(error_of({"-qmp", "unix:/tmp/x,server=maybe"}) ==
          "-qmp unix:/tmp/x,server=maybe: Parameter 'server' expects 'on' or 'off'");
    CHECK(error_of({"-monitor", "chardev:zz"}) == "-monitor chardev:zz: chardev \"zz\" not found");
    CHECK(error_of({"-chardev", "null,id=compat_monitor0", "-monitor", "null"}) ==
          "-monitor null: Duplicate ID 'compat_monitor0' for chardev");
    CHECK(error_of({"-monitor", "null", "-chardev", "null,id=compat_monitor0"}) ==
          "-chardev null,id=compat_monitor0: Duplicate ID 'compat_monitor0' for chardev");
    CHECK(error_of({"-chardev", "null,id=a,mux=on", "-monitor", "chardev:a", "-monitor", "chardev:a"}) ==
          "-monitor chardev:a: Duplicate ID 'a' for mon");
    // Found while reading: before a later -m error.
    CHECK(error_of({"-qmp", "foo", "-m", "foo"}) == "-qmp foo: 'foo' is not a valid char driver");
}

TEST_CASE("chardev: -mon", "[config][chardev][monitor]") {
    Config c = only({"-chardev", "socket,id=m,path=/tmp/m,server=on,wait=off", "-mon",
                     "chardev=m,mode=control,pretty=on", "-chardev", "null,id=h", "-mon", "h"});
    CHECK(monitor_list(c) == "m/control/pretty h/readline ");
    CHECK(error_of({"-mon", "mode=control"}) == "-mon mode=control: Parameter 'chardev' is missing");
    CHECK(error_of({"-mon", "chardev=zz"}) == "-mon chardev=zz: chardev \"zz\" not found");
    CHECK(error_of({"-mon", "chardev=zz,mode=foo"}) == "-mon chardev=zz,mode=foo: Parameter 'mode' does not accept value 'foo'");
    CHECK(error_of({"-mon", "chardev=a,pretty=foo"}) == "-mon chardev=a,pretty=foo: Parameter 'pretty' expects 'on' or 'off'");
    CHECK(error_of({"-mon", "chardev=a,foo=1"}) == "-mon chardev=a,foo=1: Invalid parameter 'foo'");
    CHECK(error_of({"-mon", "chardev=a,id=1x"}) == "-mon chardev=a,id=1x: Parameter 'id' expects an identifier");
    CHECK(error_of({"-chardev", "null,id=a", "-mon", "chardev=a,pretty=on"}) ==
          "-mon chardev=a,pretty=on: 'pretty' is not compatible with HMP monitors");
    // Syntax errors come first; unknown chardevs only once all are read.
    CHECK(error_of({"-mon", "chardev=a,foo=1", "-m", "foo"}) == "-mon chardev=a,foo=1: Invalid parameter 'foo'");
    CHECK(error_of({"-mon", "chardev=zz", "-m", "foo"}).starts_with("-m foo: "));
}

TEST_CASE("chardev: defaults of -nographic and -nodefaults", "[config][chardev]") {
    Config c = parse_ok({"-nographic"});
    CHECK(chardev_list(c) == "serial0=stdio+mux ");
    CHECK(chardev(c, "serial0").options == Options{{"signal", "off"}});
    CHECK(serial_list(c) == "serial0 ");
    CHECK(monitor_list(c) == "serial0/readline ");

    c = parse_ok({"-nographic", "-serial", "null"});
    CHECK(chardev_list(c) == "compat_monitor0=stdio serial0=null ");
    CHECK(monitor_list(c) == "compat_monitor0/readline ");

    // Any monitor option drops the default HMP: serial0 is stdio alone.
    c = parse_ok({"-nographic", "-qmp", "unix:/tmp/q,server=on,wait=off"});
    CHECK(chardev_list(c) == "compat_monitor0=socket:/tmp/q serial0=stdio ");
    CHECK(monitor_list(c) == "compat_monitor0/control ");
    CHECK(chardev_list(parse_ok({"-nographic", "-monitor", "none"})) == "serial0=stdio ");
    CHECK(parse_ok({"-nographic", "-monitor", "none", "-serial", "null"}).monitors.empty());

    c = parse_ok({"-nographic", "-nodefaults"});
    CHECK(c.chardevs.empty());
    CHECK(c.monitors.empty());
    CHECK(c.serials.empty());

    // Without -nographic there is no default monitor (QEMU's is on a
    // virtual console); the default serial port yields stdio to a monitor.
    c = parse_ok({"-qmp", "stdio"});
    CHECK(chardev_list(c) == "compat_monitor0=stdio serial0=null ");
    CHECK(chardev_list(parse_ok({})) == "serial0=stdio ");
    CHECK(parse_ok({}).monitors.empty());
}

TEST_CASE("chardev: parsing creates no socket or file", "[config][chardev]") {
    char tmpl[] = "/tmp/kestrel-chardev-test-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    std::string sock = dir + "/qmp.sock", file = dir + "/serial.log", pipe = dir + "/pipe";
    Config c = parse_ok({"-qmp", "unix:" + sock + ",server=on,wait=off", "-serial", "file:" + file,
                         "-chardev", "pipe,id=p,path=" + pipe, "-chardev", "pty,id=t",
                         "-chardev", "socket,id=s,host=127.0.0.1,port=4444,server=on,wait=off"});
    CHECK(c.chardevs.size() == 5);
    CHECK_FALSE(run_parser({"-qmp", "unix:" + sock + ",server=on,wait=off", "-serial", "file:" + file,
                            "-mon", "chardev=zz"}).error.empty());
    CHECK_FALSE(exists(sock));
    CHECK_FALSE(exists(file));
    CHECK_FALSE(exists(pipe));
    CHECK(rmdir(dir.c_str()) == 0);  // nothing else was created in it either
}

TEST_CASE("chardev: each keeps the option as typed for open-time messages", "[config][chardev]") {
    Config c = parse_ok({"-qmp", "unix:/tmp/q,server=on,wait=off", "-chardev", "pty,id=p", "-serial", "null"});
    CHECK(chardev(c, "compat_monitor0").location == "-qmp unix:/tmp/q,server=on,wait=off");
    CHECK(chardev(c, "p").location == "-chardev pty,id=p");
    CHECK(chardev(c, "serial0").location == "-serial null");
    CHECK(chardev(parse_ok({}), "serial0").location.empty());  // the default COM1
}
