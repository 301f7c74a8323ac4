// -device virtio-balloon-pci: its properties and QEMU 7.2's messages
// (checked against qemu-system-x86_64 7.2).
#include "parse_helpers.h"

#include <catch2/catch.hpp>
#include <sstream>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("-device virtio-balloon-pci properties", "[balloon][config]") {
    Config c = parse_ok({"-device", "virtio-balloon-pci,id=b0,deflate-on-oom=on,free-page-reporting=on,"
                                    "guest-stats-polling-interval=3,page-poison=off,addr=6"});
    REQUIRE(c.devices.size() == 1);
    const DeviceConfig& d = c.devices[0];
    CHECK(d.driver() == "virtio-balloon-pci");
    CHECK(d.props.boolean("deflate-on-oom"));
    CHECK(d.props.boolean("free-page-reporting"));
    CHECK_FALSE(d.props.boolean("page-poison"));
    CHECK(d.props.sint("guest-stats-polling-interval") == 3);
    CHECK(d.pci_slot() == 6u);

    Config a = parse_ok({"-device", "virtio-balloon", "-global", "virtio-balloon-device.deflate-on-oom=on"});
    CHECK(a.devices[0].driver() == "virtio-balloon-pci");
    CHECK(a.devices[0].props.boolean("deflate-on-oom"));
    CHECK(a.devices[0].props.boolean("page-poison"));
    CHECK_FALSE(a.devices[0].props.optional_int("guest-stats-polling-interval"));
}

TEST_CASE("-device virtio-balloon-pci errors", "[balloon][config]") {
    const std::string D = "-device";
    CHECK(parse_error({D, "virtio-balloon-pci", D, "virtio-balloon"}) ==
          "-device virtio-balloon: Only one balloon device is supported");
    CHECK(parse_error({D, "virtio-balloon-pci,guest-stats-polling-interval=-3"}) ==
          "-device virtio-balloon-pci,guest-stats-polling-interval=-3: timer value must be greater than zero");
    CHECK(parse_error({D, "virtio-balloon-pci,guest-stats-polling-interval=4294967296"}) ==
          "-device virtio-balloon-pci,guest-stats-polling-interval=4294967296: timer value is too big");
    CHECK(parse_error({D, "virtio-balloon-pci,guest-stats-polling-interval=x"}) ==
          "-device virtio-balloon-pci,guest-stats-polling-interval=x: Parameter 'guest-stats-polling-interval' "
          "expects integer");
    CHECK(parse_error({D, "virtio-balloon-pci,guest-stats=3"}) ==
          "-device virtio-balloon-pci,guest-stats=3: Property 'virtio-balloon-device.guest-stats' is not writable");
    CHECK(parse_error({D, "virtio-balloon-pci,deflate-on-oom=maybe"}) ==
          "-device virtio-balloon-pci,deflate-on-oom=maybe: Parameter 'deflate-on-oom' expects 'on' or 'off'");
    CHECK(parse_error({D, "virtio-balloon-pci,foo=1"}) ==
          "-device virtio-balloon-pci,foo=1: Property 'virtio-balloon-pci.foo' not found");
    CHECK(parse_error({D, "virtio-balloon-pci,free-page-hint=on"}) ==
          "-device virtio-balloon-pci,free-page-hint=on: Property 'virtio-balloon-pci.free-page-hint' is not "
          "supported by kestrel yet");
    CHECK(parse_error({D, "virtio-balloon-pci,iothread=io9"}) ==
          "-device virtio-balloon-pci,iothread=io9: Device 'io9' not found");
}

TEST_CASE("-device virtio-balloon-pci,help lists QEMU's names and types", "[balloon][config]") {
    ParseOutcome o = run_parser({"-device", "virtio-balloon-pci,help"});
    CHECK(o.error.empty());
    std::istringstream lines(o.output);
    std::string line, all;
    while (std::getline(lines, line)) all += line + "\n";
    for (const char* expected : {
             "virtio-balloon-pci options:\n",
             "  addr=<int32>           - Slot and optional function number, example: 06.0 or 06 (default: -1)\n",
             "  deflate-on-oom=<bool>  - on/off (default: false)\n",
             "  free-page-reporting=<bool> - on/off (default: false)\n",
             "  guest-stats-polling-interval=<int>\n",
             "  guest-stats=<guest statistics>\n",
             "  iothread=<link<iothread>>\n",
             "  page-poison=<bool>     - on/off (default: true)\n",
             "  qemu-4-0-config-size=<bool> -  (default: false)\n",
         }) {
        INFO(expected);
        CHECK(all.find(expected) != std::string::npos);
    }
}
