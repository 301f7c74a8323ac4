// The i8042 as an input handler: scancodes for every key in sets 1 and 2,
// Print Screen and Pause as QEMU sends them, mouse reports as packets.
#include "devices/i8042/i8042_input.h"
#include "fake_device_context.h"
#include "ui/input.h"
#include "ui/qcode.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {
unsigned key(const char* name) { return *qcode_by_name(name); }
} // namespace

TEST_CASE("PS/2 scancodes: sets 1 and 2, extended keys, break codes", "[i8042][input]") {
    using V = std::vector<uint8_t>;
    CHECK(ps2_scancodes(key("a"), true, 1) == V{0x1e});
    CHECK(ps2_scancodes(key("a"), false, 1) == V{0x9e});
    CHECK(ps2_scancodes(key("a"), true, 2) == V{0x1c});
    CHECK(ps2_scancodes(key("a"), false, 2) == V{0xf0, 0x1c});
    CHECK(ps2_scancodes(key("ctrl_r"), true, 2) == V{0xe0, 0x14});
    CHECK(ps2_scancodes(key("ctrl_r"), false, 1) == V{0xe0, 0x9d});
    CHECK(ps2_scancodes(key("f7"), true, 2) == V{0x83});
    CHECK(ps2_scancodes(key("f2"), true, 2) == V{0x06});
    CHECK(ps2_scancodes(key("kp_divide"), true, 2) == V{0xe0, 0x4a});
    CHECK(ps2_scancodes(key("print"), true, 2) == V{0xe0, 0x12, 0xe0, 0x7c});
    CHECK(ps2_scancodes(key("pause"), true, 1) == V{0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5});
    CHECK(ps2_scancodes(key("pause"), false, 1).empty());
    CHECK(ps2_scancodes(0, true, 2).empty());
    CHECK(ps2_scancodes(100000, true, 2).empty());  // no such key
    // Every key with a scancode translates back through the 8042's table.
    for (unsigned q = 1; q < qkeycodes().size(); ++q) {
        if (q == key("pause") || q == key("print") || qkeycodes()[q].qnum == 0) continue;
        auto two = ps2_scancodes(q, true, 2);
        if (two.empty()) continue;
        CHECK(translate_set2_to_set1(two.back()) == (qkeycodes()[q].qnum & 0x7f));
    }
}

TEST_CASE("i8042 input: keys typed through the input service reach the guest's port 0x60", "[i8042][input]") {
    FakeDeviceContext ctx;
    InputService input;
    ctx.registry.add<InputService>(input);
    auto dev = ctx.realize("i8042");
    ctx.out(0x64, 0x60, 1);
    ctx.out(0x60, 0x00, 1);  // command byte: no translation, no interrupts
    input.key(key("a"), true);
    CHECK((ctx.in(0x64, 1) & 1) == 1);
    CHECK(ctx.in(0x60, 1) == 0x1c);
    input.key(key("a"), false);
    CHECK(ctx.in(0x60, 1) == 0xf0);
    CHECK(ctx.in(0x60, 1) == 0x1c);
    auto mice = input.mice();
    REQUIRE(mice.size() == 1);
    CHECK(mice[0].name == "QEMU PS/2 Mouse");
    CHECK(mice[0].index == 2);
    CHECK(mice[0].current);
    CHECK_FALSE(input.absolute());
}

TEST_CASE("i8042 input: moves, buttons and the wheel make one PS/2 packet", "[i8042][input]") {
    FakeDeviceContext ctx;
    InputService input;
    ctx.registry.add<InputService>(input);
    auto dev = ctx.realize("i8042");
    ctx.out(0x64, 0x60, 1);
    ctx.out(0x60, 0x00, 1);
    ctx.out(0x64, 0xd4, 1);
    ctx.out(0x60, 0xf4, 1);  // enable reporting
    CHECK(ctx.in(0x60, 1) == 0xfa);
    input.send({InputEvent::rel(InputAxis::X, 5), InputEvent::rel(InputAxis::Y, 3),
                InputEvent::btn(InputButton::Left, true)});
    uint8_t b0 = uint8_t(ctx.in(0x60, 1)), dx = uint8_t(ctx.in(0x60, 1)), dy = uint8_t(ctx.in(0x60, 1));
    CHECK((b0 & 0x07) == 0x01);  // left button
    CHECK(dx == 5);
    CHECK(int8_t(dy) == -3);     // screen down is PS/2 negative
    CHECK((b0 & 0x20) != 0);     // y sign
}
