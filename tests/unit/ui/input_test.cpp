// Input routing as QEMU's input layer does it, and the en-us keymap.
#include "ui/input.h"
#include "ui/keysym.h"
#include "ui/qcode.h"

#include <catch2/catch.hpp>

using namespace kestrel;

namespace {
struct Recorder : InputHandler {
    std::vector<InputEvent> events;
    int syncs = 0;
    void input_event(const InputEvent& e) override { events.push_back(e); }
    void input_sync() override { ++syncs; }
};
unsigned key(const char* name) { return *qcode_by_name(name); }
} // namespace

TEST_CASE("input: events go to the first handler of their kind; activation moves a handler first", "[input]") {
    InputService input;
    Recorder kbd, mouse, tablet;
    CHECK(input.add_handler("kbd", InputHandler::KEY, kbd) == 1);
    CHECK(input.add_handler("QEMU PS/2 Mouse", InputHandler::REL | InputHandler::BUTTON, mouse) == 2);
    CHECK(input.add_handler("QEMU HID Tablet", InputHandler::ABS | InputHandler::BUTTON, tablet) == 3);
    input.send({InputEvent::key(key("a"), true), InputEvent::btn(InputButton::Left, true)});
    CHECK(kbd.events.size() == 1);
    CHECK(mouse.events.size() == 1);
    CHECK(kbd.syncs == 1);
    CHECK_FALSE(input.absolute());  // the PS/2 mouse is current until the tablet is used
    input.activate(tablet);
    CHECK(input.absolute());
    input.send({InputEvent::abs(InputAxis::X, 100), InputEvent::btn(InputButton::Right, true)});
    CHECK(tablet.events.size() == 2);
    input.send({InputEvent::rel(InputAxis::X, 1)});
    CHECK(mouse.events.size() == 2);  // relative moves still reach the mouse
    auto mice = input.mice();
    REQUIRE(mice.size() == 2);
    CHECK(mice[0].index == 3);  // newest first, as "info mice"
    CHECK(mice[0].current);
    CHECK(mice[0].absolute);
    CHECK_FALSE(mice[1].current);
    CHECK(input.select_mouse(2));
    CHECK_FALSE(input.select_mouse(1));  // a keyboard is no mouse
    CHECK_FALSE(input.select_mouse(7));
    CHECK_FALSE(input.absolute());
    input.remove_handler(tablet);
    CHECK(input.mice().size() == 1);
}

TEST_CASE("keysyms: the en-us keymap", "[input]") {
    CHECK(keysym_to_qcode('a') == key("a"));
    CHECK(keysym_to_qcode('A') == key("a"));
    CHECK(keysym_to_qcode('!') == key("1"));
    CHECK(keysym_to_qcode('~') == key("grave_accent"));
    CHECK(keysym_to_qcode(' ') == key("spc"));
    CHECK(keysym_to_qcode(0xff0d) == key("ret"));
    CHECK(keysym_to_qcode(0xffbf) == key("f2"));
    CHECK(keysym_to_qcode(0xffe3) == key("ctrl"));
    CHECK(keysym_to_qcode(0xffea) == key("alt_r"));
    CHECK(keysym_to_qcode(0x20ac) == 0);  // the euro sign: no en-us key
    CHECK(keysym_to_qcode(0xffffffff) == 0);
}

TEST_CASE("QKeyCode: QEMU 7.2's names in order, numbers for sendkey", "[input]") {
    CHECK(qkeycodes().size() == 150);
    CHECK(qkeycodes()[0].name == "unmapped");
    CHECK(qkeycodes()[149].name == "lang2");
    CHECK(qcode_by_qnum(0x1e) == key("a"));
    CHECK(qcode_by_qnum(0x37) == key("asterisk"));
    CHECK_FALSE(qcode_by_qnum(0x1ff));
}
