#include "devices/misc_ports/post_code_port.h"
#include "devices/misc_ports/system_control_port_a.h"
#include "misc_test_fakes.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("misc: port 0x92 fast reset on a rising bit 0, A20 readable") {
    FakeMachineControl control;
    SystemControlPortA port(control);
    CHECK(inb(port, 0) == 0x02);  // A20 on
    CHECK(port.a20_enabled());
    outb(port, 0, 0x00);
    CHECK_FALSE(port.a20_enabled());
    CHECK(control.resets.empty());
    outb(port, 0, 0x03);
    REQUIRE(control.resets.size() == 1);
    CHECK(control.resets[0] == ShutdownCause::GuestReset);
    outb(port, 0, 0x03);  // bit 0 stays set: no new edge
    CHECK(control.resets.size() == 1);
    CHECK(inb(port, 0) == 0x03);
    port.reset();
    CHECK(inb(port, 0) == 0x02);
    outb(port, 0, 0x01);
    CHECK(control.resets.size() == 2);
}

TEST_CASE("misc: port 0x80 swallows POST codes") {
    PostCodePort port;
    outb(port, 0, 0x42);
    CHECK(inb(port, 0) == 0xff);
}
