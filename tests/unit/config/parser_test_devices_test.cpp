// -fw_cfg, -debugcon, -action and the -global / -device checks of the test
// devices (pvpanic, kvm-pit, pci-testdev, isa-debugcon).
#include "tests/unit/config/parse_helpers.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

using namespace kestrel;
using namespace kestrel::test;

namespace {

const DeviceConfig* find(const Config& c, std::string_view type) {
    for (const auto* list : {&c.board_devices, &c.devices})
        for (const DeviceConfig& d : *list)
            if (d.type->name == type) return &d;
    return nullptr;
}

} // namespace

TEST_CASE("parser: -fw_cfg files from strings and files, QEMU's errors", "[config][parser][fw_cfg]") {
    std::string path = "/tmp/kestrel-fwcfg-test-" + std::to_string(getpid());
    std::ofstream(path) << "from file";
    Config c = parse_ok({"-fw_cfg", "opt/a,string=hello", "-fw_cfg", "name=opt/b,file=" + path});
    REQUIRE(c.fw_cfg_files.size() == 2);
    CHECK(c.fw_cfg_files[0].name == "opt/a");
    CHECK(c.fw_cfg_files[0].data == std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
    CHECK(c.fw_cfg_files[1].data.size() == 9);
    std::remove(path.c_str());
    const std::string needed = "name, plus exactly one of file, string and gen_id, are needed";
    CHECK(parse_error({"-fw_cfg", "name=opt/a"}) == "-fw_cfg name=opt/a: " + needed);
    CHECK(parse_error({"-fw_cfg", "file=x"}) == "-fw_cfg file=x: " + needed);
    CHECK(parse_error({"-fw_cfg", "opt/a,file=x,string=y"}) == "-fw_cfg opt/a,file=x,string=y: " + needed);
    CHECK(parse_error({"-fw_cfg", "opt/a,string="}) == "-fw_cfg opt/a,string=: " + needed);
    CHECK(parse_error({"-fw_cfg", "opt/a,foo=1"}) == "-fw_cfg opt/a,foo=1: Invalid parameter 'foo'");
    CHECK(parse_error({"-fw_cfg", "opt/" + std::string(52, 'x') + ",string=y"}).ends_with(
        "name too long (max. 55 char)"));
    CHECK(parse_error({"-fw_cfg", "opt/a,file=/nonexistent/f"}) ==
          "-fw_cfg opt/a,file=/nonexistent/f: can't load /nonexistent/f: Failed to open file “/nonexistent/f”: No "
          "such file or directory");
    CHECK(parse_error({"-fw_cfg", "opt/a,string=x", "-fw_cfg", "opt/a,string=y"}) ==
          "-fw_cfg opt/a,string=y: duplicate fw_cfg file name: opt/a");
    CHECK(parse_error({"-fw_cfg", "opt/a,gen_id=g"}) == "-fw_cfg opt/a,gen_id=g: Cannot find object ID 'g'");
    Config warned = parse_ok({"-fw_cfg", "etc/x,string=y"});
    REQUIRE(warned.warnings.size() == 1);
    CHECK(warned.warnings[0] ==
          "-fw_cfg etc/x,string=y: warning: externally provided fw_cfg item names should be prefixed with \"opt/\"");
}

TEST_CASE("parser: -debugcon makes chardev and device 'debugcon'", "[config][parser][debugcon]") {
    Config c = parse_ok({"-debugcon", "null", "-nodefaults"});
    const DeviceConfig* d = find(c, "isa-debugcon");
    REQUIRE(d);
    CHECK(d->id == "debugcon");
    CHECK(d->props.str("chardev") == "debugcon");
    CHECK(d->props.uint("iobase") == 0xe9);
    CHECK(std::any_of(c.chardevs.begin(), c.chardevs.end(), [](auto& ch) { return ch.id == "debugcon"; }));
    // QEMU's first line of two ("invalid character backend 'foo:bar'" follows).
    CHECK(parse_error({"-debugcon", "foo:bar"}) == "-debugcon foo:bar: 'foo:bar' is not a valid char driver");
    CHECK(parse_error({"-debugcon", "null", "-debugcon", "null"}) ==
          "-debugcon null: attempt to add duplicate property 'debugcon' to object (type 'container')");
    CHECK(parse_error({"-debugcon", "null", "-device", "isa-debugcon,id=debugcon,chardev=x"}) ==
          "-debugcon null: already have a debugcon device");
    CHECK(parse_error({"-device", "isa-debugcon"}) ==
          "-device isa-debugcon: Can't create debugcon device, empty char device");
}

TEST_CASE("parser: -action and its -no-reboot/-no-shutdown forms", "[config][parser][action]") {
    CHECK(parse_ok({}).panic_action == PanicAction::Shutdown);
    Config c = parse_ok({"-action", "reboot=shutdown,shutdown=pause,panic=exit-failure,watchdog=inject-nmi"});
    CHECK(c.no_reboot);
    CHECK(c.no_shutdown);
    CHECK(c.panic_action == PanicAction::ExitFailure);
    CHECK(c.watchdog_action == "inject-nmi");
    CHECK(!parse_ok({"-no-reboot", "-action", "reboot=reset"}).no_reboot);  // the last word wins
    CHECK(parse_ok({"-action", "panic=none"}).panic_action == PanicAction::None);
    CHECK(parse_ok({"-action", "panic=pause"}).panic_action == PanicAction::Pause);
    CHECK(parse_error({"-action", "panic=foo"}) == "-action panic=foo: Parameter 'panic' does not accept value 'foo'");
    CHECK(parse_error({"-action", "foo=bar"}) == "-action foo=bar: Invalid parameter 'foo'");
}

TEST_CASE("parser: kvm-pit's lost_tick_policy through -global", "[config][parser][pit]") {
    Config c = parse_ok({"-global", "kvm-pit.lost_tick_policy=discard"});
    const DeviceConfig* pit = find(c, "kvm-pit");
    REQUIRE(pit);
    CHECK(pit->props.str("lost_tick_policy") == "discard");
    CHECK(pit->props.uint("iobase") == 0x40);
    CHECK(find(parse_ok({}), "kvm-pit")->props.str("lost_tick_policy") == "delay");
    CHECK(parse_error({"-global", "kvm-pit.lost_tick_policy=foo"}) ==
          "can't apply global kvm-pit.lost_tick_policy=foo: Parameter 'lost_tick_policy' does not accept value "
          "'foo'");
    CHECK(parse_error({"-global", "kvm-pit.lost_tick_policy=slew"}) == "Lost tick policy not supported.");
    CHECK(parse_error({"-device", "kvm-pit"}) == "-device kvm-pit: Parameter 'driver' expects a pluggable device type");
}

TEST_CASE("parser: pvpanic and pci-testdev checks", "[config][parser][testdev]") {
    CHECK(find(parse_ok({"-device", "pvpanic"}), "pvpanic")->props.uint("ioport") == 0x505);
    CHECK(parse_error({"-device", "pvpanic", "-device", "pvpanic"}) ==
          "-device pvpanic: duplicate fw_cfg file name: etc/pvpanic-port");
    CHECK(parse_error({"-device", "pvpanic,events=256"}) == "-device pvpanic,events=256: Parameter 'events' expects uint8_t");
    CHECK(find(parse_ok({"-device", "pci-testdev,membar=1M"}), "pci-testdev")->props.uint("membar") == 1 << 20);
    CHECK(parse_error({"-device", "pci-testdev,membar=3M"}) ==
          "-device pci-testdev,membar=3M: Property 'pci-testdev.membar' must be 0 or a power of two of at least 16 "
          "bytes");
}
