// Command line parsing: tokenizing, defaults, informational options, -m,
// -smp, -machine, -accel and -cpu. Expected messages are QEMU 7.2's.
#include "parse_helpers.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("parser: defaults are QEMU's for pc, with kvm", "[config][parser]") {
    Config c = parse_ok({});
    CHECK(c.program == "kestrel");
    CHECK(c.memory.size == 128ull << 20);
    CHECK(c.memory.maxmem == 128ull << 20);
    CHECK(c.smp.cpus == 1);
    CHECK(c.smp.maxcpus == 1);
    CHECK(c.cpu.model == "qemu64");
    CHECK(c.cpu.features.empty());
    CHECK(c.machine.type == "pc");
    CHECK(c.machine.accel == "kvm");
    CHECK(c.display == DisplayKind::Default);
    REQUIRE(c.serials.size() == 1);
    CHECK(c.serials[0] == "serial0");
    REQUIRE(c.chardevs.size() == 1);
    CHECK(c.chardevs[0].id == "serial0");
    CHECK(c.chardevs[0].backend == "stdio");
    CHECK_FALSE(c.chardevs[0].mux);
    CHECK(c.monitors.empty());
    CHECK(c.warnings.empty());
    CHECK_FALSE(c.start_paused);
    CHECK_FALSE(c.daemonize);
}

TEST_CASE("parser: program is argv[0]'s basename", "[config][parser]") {
    CHECK(run_parser({}, "/usr/bin/qemu-system-x86_64").config->program == "qemu-system-x86_64");
    CHECK(run_parser({}, "./build/qemu-kvm").config->program == "qemu-kvm");
}

TEST_CASE("parser: one or two dashes, spelled back as typed", "[config][parser]") {
    CHECK(parse_ok({"--m", "1G", "--S"}).memory.size == 1ull << 30);
    CHECK(parse_ok({"--S"}).start_paused);
    CHECK(parse_error({"--m", "foo"}) ==
          "--m foo: Parameter 'size' expects a non-negative number below 2^64");
}

TEST_CASE("parser: unknown options and QEMU-only spellings", "[config][parser]") {
    CHECK(parse_error({"-foo"}) == "-foo: invalid option");
    CHECK(parse_error({"--foo"}) == "--foo: invalid option");
    CHECK(parse_error({"--foo=1"}) == "--foo=1: invalid option");
    CHECK(parse_error({"-m=512"}) == "-m=512: invalid option");
    CHECK(parse_error({"-nographic=1"}) == "-nographic=1: invalid option");
    CHECK(parse_error({"-mach", "pc"}) == "-mach: invalid option");  // no abbreviations
    CHECK(parse_error({"-"}) == "-: invalid option");
    CHECK(parse_error({"--"}) == "--: invalid option");
    CHECK(parse_error({"--", "-m", "5"}) == "--: invalid option");
    CHECK(parse_error({"---m", "5"}) == "---m: invalid option");
    CHECK(parse_error({"-hda", "a.img", "disk.img"}) == "disk.img: drive with bus=0, unit=0 (index=0) exists");
}

TEST_CASE("parser: an option's argument is the next token, whatever it is", "[config][parser]") {
    CHECK(parse_ok({"-kernel", "/bin/sh", "-append", "-S"}).boot.append == "-S");
    CHECK(parse_ok({"-kernel", "/bin/sh", "-append", "--"}).boot.append == "--");
    CHECK(parse_ok({"-name", "-foo"}).name == "-foo");
    CHECK(parse_error({"-m", "-display", "none"}) ==
          "-m -display: Parameter 'size' expects a non-negative number below 2^64");
}

TEST_CASE("parser: missing argument", "[config][parser]") {
    CHECK(parse_error({"-m"}) == "-m: requires an argument");
    CHECK(parse_error({"-S", "--M"}) == "--M: requires an argument");
    CHECK(parse_error({"-append"}) == "-append: requires an argument");
    // Errors are reported in command line order.
    CHECK(parse_error({"-m", "foo", "-D"}) ==
          "-m foo: Parameter 'size' expects a non-negative number below 2^64");
    CHECK(parse_error({"-foo", "-m", "foo"}) == "-foo: invalid option");
}

TEST_CASE("parser: informational options print and return nothing", "[config][parser]") {
    ParseOutcome v = run_parser({"-version"});
    CHECK_FALSE(v.config);
    CHECK(v.error.empty());
    CHECK(v.output.starts_with("QEMU emulator version 7.2.0 (kestrel "));
    CHECK(v.output.find("\nCopyright (c)") != std::string::npos);
    // Acted on at once, like QEMU: later options are not looked at.
    CHECK(run_parser({"-version", "-foo"}).error.empty());
    CHECK(run_parser({"-foo", "-version"}).error == "-foo: invalid option");

    for (const char* help : {"-h", "-help", "--help"}) {
        ParseOutcome h = run_parser({help}, "qemu-system-x86_64");
        CHECK_FALSE(h.config);
        CHECK(h.output.find("usage: qemu-system-x86_64 [options]") != std::string::npos);
        for (const char* opt : {"\n-m ", "\n-smp ", "\n-cpu ", "\n-machine ", "\n-serial ",
                                "\n-rtc ", "\n-daemonize", "\n-nodefaults", "\n-d item"})
            CHECK(h.output.find(opt) != std::string::npos);
    }
    CHECK(run_parser({"-M", "help"}).output.find("pc-i440fx-7.2") != std::string::npos);
    CHECK(run_parser({"-machine", "?"}).output.starts_with("Supported machines are:\n"));
    ParseOutcome cpu = run_parser({"-cpu", "help"});
    CHECK_FALSE(cpu.config);
    CHECK(cpu.output.find("x86 qemu64") != std::string::npos);
    CHECK(cpu.output.find(" x2apic ") != std::string::npos);
    CHECK(run_parser({"-accel", "help"}).output.find("kvm") != std::string::npos);
    CHECK(run_parser({"-display", "help"}).output.find("none") != std::string::npos);
    ParseOutcome log = run_parser({"-d", "help"});
    CHECK_FALSE(log.config);
    CHECK(log.output.find("guest_errors") != std::string::npos);
    // Listings come after every option has been read.
    CHECK(run_parser({"-M", "help", "-m", "foo"}).error.starts_with("-m foo:"));
    CHECK(run_parser({"-cpu", "help", "-cpu", "qemu64"}).config);
}

TEST_CASE("parser: -m sizes; a bare number is MiB", "[config][parser][memory]") {
    CHECK(parse_ok({"-m", "512"}).memory.size == 512ull << 20);
    CHECK(parse_ok({"-m", "1G"}).memory.size == 1ull << 30);
    CHECK(parse_ok({"-m", "size=1G"}).memory.size == 1ull << 30);
    CHECK(parse_ok({"-m", "size=2048"}).memory.size == 2048ull << 20);
    CHECK(parse_ok({"-m", "1.5G"}).memory.size == 3ull << 29);
    CHECK(parse_ok({"-m", "512k"}).memory.size == 512ull << 10);
    CHECK(parse_ok({"-m", "1b"}).memory.size == 8192);  // rounded up to 8 KiB
    CHECK(parse_ok({"-m", "0"}).memory.size == 128ull << 20);
    CHECK(parse_ok({"-m", ""}).memory.size == 128ull << 20);
    CHECK(parse_ok({"-m", "1G", "-m", "2G"}).memory.size == 2ull << 30);
    Config hex = parse_ok({"-m", "0x100"});
    CHECK(hex.memory.size == 256ull << 20);
    REQUIRE(hex.warnings.size() == 1);
    CHECK(hex.warnings[0] == "warning: Using a multiplier suffix on hex numbers is deprecated: 0x100M");
}

TEST_CASE("parser: -m errors", "[config][parser][memory]") {
    const std::string expects = ": Parameter 'size' expects a non-negative number below 2^64";
    CHECK(parse_error({"-m", "foo"}) == "-m foo" + expects);
    CHECK(parse_error({"-m", "size=foo"}) == "-m size=foo" + expects);
    CHECK(parse_error({"-m", "1.5"}) == "-m 1.5" + expects);
    CHECK(parse_error({"-m", "-5"}) == "-m -5" + expects);
    CHECK(parse_error({"-m", "16E"}) == "-m 16E: Value '16E' is out of range for parameter 'size'");
    CHECK(parse_error({"-m", "99999999999999"}) == "Parameter 'memory.size' expects size");
    CHECK(parse_error({"-m", "512,foo=1"}) == "-m 512,foo=1: Invalid parameter 'foo'");
    CHECK(parse_error({"-m", "512,512"}) == "-m 512,512: Invalid parameter '512'");
    CHECK(parse_error({"-m", "=5"}) == "-m =5: Invalid parameter ''");
}

TEST_CASE("parser: -m slots and maxmem", "[config][parser][memory]") {
    Config c = parse_ok({"-m", "1G,slots=2,maxmem=4G"});
    CHECK(c.memory.size == 1ull << 30);
    CHECK(c.memory.slots == 2);
    CHECK(c.memory.maxmem == 4ull << 30);
    CHECK(parse_ok({"-m", "1G,maxmem=2G"}).memory.maxmem == 2ull << 30);
    CHECK(parse_ok({"-m", "1G"}).memory.maxmem == 1ull << 30);
    CHECK(parse_ok({"-m", "1G,slots=1", "-m", "2G,maxmem=4G"}).memory.slots == 1);  // merged
    CHECK(parse_error({"-m", "1G,slots=2"}) == "slots specified but no max-size");
    CHECK(parse_error({"-m", "1G,slots=foo"}) == "-m 1G,slots=foo: Parameter 'slots' expects a number");
    CHECK(parse_error({"-m", "1G,maxmem=foo"}) ==
          "-m 1G,maxmem=foo: Parameter 'maxmem' expects a non-negative number below 2^64");
    CHECK(parse_error({"-m", "1G,slots=2,maxmem=500M"}) ==
          "invalid value of maxmem: maximum memory size (0x1f400000) must be at least the "
          "initial memory size (0x40000000)");
    CHECK(parse_error({"-m", "1G,maxmem=2G,slots=1", "-m", "2G"}) ==
          "invalid value of maxmem: memory slots were specified but maximum memory size "
          "(0x80000000) is equal to the initial memory size (0x80000000)");
    CHECK(parse_error({"-m", "1G,slots=300,maxmem=2G"}) == "unsupported amount of memory slots: 300");
}

TEST_CASE("parser: -mem-path and -mem-prealloc", "[config][parser][memory]") {
    Config c = parse_ok({"-mem-path", "/dev/hugepages", "-mem-prealloc"});
    CHECK(c.memory.mem_path == "/dev/hugepages");
    CHECK(c.memory.prealloc);
}

TEST_CASE("parser: -smp", "[config][parser][smp]") {
    Config c = parse_ok({"-smp", "4"});
    CHECK(c.smp.cpus == 4);
    CHECK(c.smp.cores == 4);
    CHECK(c.smp.sockets == 1);
    c = parse_ok({"-smp", "cpus=4,sockets=2,maxcpus=8"});
    CHECK(c.smp.cpus == 4);
    CHECK(c.smp.cores == 4);
    CHECK(c.smp.maxcpus == 8);
    c = parse_ok({"-smp", "4", "-smp", "sockets=2"});  // repeated -smp options merge
    CHECK(c.smp.sockets == 2);
    CHECK(c.smp.cores == 2);
    CHECK(parse_ok({"-smp", "010"}).smp.cpus == 8);  // strtoull base 0, as QEMU
    Config zero = parse_ok({"-smp", "0"});
    CHECK(zero.smp.cpus == 1);
    REQUIRE(zero.warnings.size() == 1);
    CHECK(zero.warnings[0].find("Deprecated CPU topology") != std::string::npos);
}

TEST_CASE("parser: -smp errors carry no location, as in QEMU", "[config][parser][smp]") {
    CHECK(parse_error({"-smp", "foo"}) == "Parameter 'smp.cpus' expects integer");
    CHECK(parse_error({"-smp", "sockets=x"}) == "Parameter 'smp.sockets' expects integer");
    CHECK(parse_error({"-smp", "2,foo=1"}) == "Parameter 'smp.foo' is unexpected");
    CHECK(parse_error({"-smp", "2,sockets=2,maxcpus=5"}) ==
          "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies "
          "(1) * cores (2) * threads (1) != maxcpus (5)");
    CHECK(parse_error({"-smp", "300"}) ==
          "Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-i440fx-7.2' is 255");
    CHECK(parse_error({"-smp", "-1"}) ==
          "Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-i440fx-7.2' is 255");
}

TEST_CASE("parser: -machine / -M", "[config][parser][machine]") {
    CHECK(parse_ok({"-M", "pc"}).machine.type == "pc");
    CHECK(parse_ok({"-machine", "pc-i440fx-7.2"}).machine.type == "pc");
    CHECK(parse_ok({"-machine", "type=pc-i440fx-2.12,accel=kvm"}).machine.type == "pc");
    CHECK(parse_ok({"-M", "pc-i440fx-1.4"}).machine.accel == "kvm");
    CHECK(parse_ok({"-M", "foo", "-M", "pc"}).machine.type == "pc");  // merged, last wins
    CHECK(parse_ok({"-M", "pc,accel=kvm:tcg"}).machine.accel == "kvm");
    CHECK(parse_error({"-M", "foo"}) == "unsupported machine type");
    CHECK(parse_error({"-machine", "type=help"}) == "unsupported machine type");
    CHECK(parse_error({"-M", "pc-i440fx-9.9"}) == "unsupported machine type");
    CHECK(parse_error({"-M", "q35"}).starts_with("unsupported machine type 'q35'"));
    CHECK(parse_error({"-machine", "pc,foo=1"}) == "Property 'pc-i440fx-7.2-machine.foo' not found");
    CHECK(parse_error({"-M", "pc,usb"}) == "-M pc,usb: Expected '=' after parameter 'usb'");
    CHECK(parse_error({"-M", "help,foo"}) == "-M help,foo: Expected '=' after parameter 'foo'");
}

TEST_CASE("parser: accelerators: kvm only", "[config][parser][machine]") {
    CHECK(parse_ok({"-enable-kvm"}).machine.accel == "kvm");
    CHECK(parse_ok({"-accel", "kvm"}).machine.accel == "kvm");
    CHECK(parse_ok({"-accel", "accel=kvm,kernel-irqchip=on"}).machine.accel == "kvm");
    CHECK(parse_ok({"-accel", "kvm", "-accel", "tcg"}).machine.accel == "kvm");  // fallback
    CHECK(parse_error({"-accel", "tcg"}) ==
          "-accel tcg: accelerator 'tcg' is not supported (kestrel runs guests only with kvm)");
    CHECK(parse_error({"-accel", "tcg", "-accel", "kvm"}).starts_with("-accel tcg: "));
    CHECK(parse_error({"-machine", "accel=tcg"}) ==
          "accelerator 'tcg' is not supported (kestrel runs guests only with kvm)");
    CHECK(parse_error({"-accel", "foo"}) == "-accel foo: invalid accelerator foo");
    CHECK(parse_error({"-machine", "accel=foo"}) == "invalid accelerator foo");
    CHECK(parse_error({"-accel", "kvm,foo=1"}) == "-accel kvm,foo=1: Property 'kvm-accel.foo' not found");
    CHECK(parse_error({"-accel", "kvm,kernel-irqchip=split"}).find("not supported") !=
          std::string::npos);
    // Accelerators are set up late, as in QEMU: option errors come first.
    CHECK(parse_error({"-accel", "tcg", "-m", "foo"}).starts_with("-m foo: "));
    const std::string incompatible = "The -accel and \"-machine accel=\" options are incompatible";
    CHECK(parse_error({"-enable-kvm", "-machine", "accel=kvm"}) == incompatible);
    CHECK(parse_error({"-machine", "accel=kvm", "-accel", "kvm"}) == incompatible);
}

TEST_CASE("parser: -cpu models and features", "[config][parser][cpu]") {
    CHECK(parse_ok({"-cpu", "host"}).cpu.model == "host");
    CHECK(parse_ok({"-cpu", "max"}).cpu.model == "max");
    CHECK(parse_ok({"-cpu", "kvm64"}).cpu.model == "kvm64");
    CHECK(parse_ok({"-cpu", "qemu64-v1"}).cpu.model == "qemu64");
    CHECK(parse_ok({"-cpu", "foo", "-cpu", "max"}).cpu.model == "max");  // last wins
    using F = std::vector<std::pair<std::string, bool>>;
    CHECK(parse_ok({"-cpu", "qemu64,+x2apic,-svm,pmu=off,sse4_1=on,lahf_lm"}).cpu.features ==
          F{{"pmu", false}, {"sse4.1", true}, {"lahf-lm", true}, {"x2apic", true}, {"svm", false}});
    // QEMU applies feat=on|off first, then +feat, then -feat.
    CHECK(parse_ok({"-cpu", "kvm64,-x2apic,+x2apic"}).cpu.features ==
          F{{"x2apic", true}, {"x2apic", false}});
    CHECK(parse_ok({"-cpu", "qemu64,sse3=yes,,"}).cpu.features == F{{"pni", true}});
    Config mixed = parse_ok({"-cpu", "qemu64,+x2apic,x2apic=off"});
    REQUIRE(mixed.warnings.size() == 1);
    CHECK(mixed.warnings[0].find("Ambiguous CPU model string") != std::string::npos);
}

TEST_CASE("parser: -cpu errors", "[config][parser][cpu]") {
    CHECK(parse_error({"-cpu", "foo"}) == "unable to find CPU model 'foo'");
    CHECK(parse_error({"-cpu", "Haswell"}) == "unable to find CPU model 'Haswell'");
    CHECK(parse_error({"-cpu", ""}) == "-cpu option cannot be empty");
    CHECK(parse_error({"-cpu", "qemu64,+foo"}) == "Property 'qemu64-x86_64-cpu.foo' not found");
    CHECK(parse_error({"-cpu", "qemu64,+"}) == "Property 'qemu64-x86_64-cpu.' not found");
    CHECK(parse_error({"-cpu", "qemu64,foo"}) ==
          "can't apply global qemu64-x86_64-cpu.foo=on: Property 'qemu64-x86_64-cpu.foo' not found");
    CHECK(parse_error({"-cpu", "qemu64,sse4.1=maybe"}) ==
          "can't apply global qemu64-x86_64-cpu.sse4.1=maybe: Parameter 'sse4.1' expects 'on' or 'off'");
    CHECK(parse_error({"-cpu", "help,foo"}) == "unable to find CPU model 'help'");
}
