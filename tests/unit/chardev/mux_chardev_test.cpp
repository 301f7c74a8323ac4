#include "chardev/mux_chardev.h"
#include "chardev_test_util.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

// A backend the test types into and reads from.
struct FakeBackend final : Chardev {
    FakeBackend() : Chardev("m-base") {}
    std::string out;
    void write(std::span<const uint8_t> data) override { out.append(data.begin(), data.end()); }
    std::string filename() const override { return "fake"; }
    void type(const std::string& s) {
        frontend_->receive({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
    }
    CharFrontend* frontend() const { return frontend_; }
};

struct MuxRig {
    EventLoop loop;
    FakeBackend backend;
    int exits = 0, flushes = 0;
    MuxChardev mux{"m", backend, loop, MuxActions{[this] { ++exits; }, [this] { ++flushes; }}};
    Recorder monitor, serial;
    Chardev& mon_view = mux.new_view();
    Chardev& ser_view = mux.new_view();
    MuxRig() {
        // As QEMU: the monitor attaches first, the device last (and has focus).
        mon_view.attach(&monitor);
        ser_view.attach(&serial);
        loop.post([this] { mux.opened(); });  // as the backend does
        spin(loop);
    }
};

const char* const kHelpText =
    "\n\rC-a h    print this help\n\rC-a x    exit emulator\n\rC-a s    save disk data back to file (if "
    "-snapshot)\n\rC-a t    toggle console timestamps\n\rC-a b    send break (magic sysrq)\n\rC-a c    switch "
    "between console and monitor\n\rC-a C-a  sends C-a\n\r";

} // namespace

TEST_CASE("chardev mux: the frontend attached last has the keyboard", "[chardev]") {
    MuxRig rig;
    CHECK(rig.backend.frontend() == &rig.mux);
    CHECK(rig.mux.focus() == 1);
    CHECK(rig.monitor.events == std::vector<std::string>{"focus+", "focus-", "opened"});
    CHECK(rig.serial.events == std::vector<std::string>{"focus+", "opened"});
    rig.backend.type("ls\r");
    CHECK(rig.serial.got == "ls\r");
    CHECK(rig.monitor.got.empty());
    CHECK(rig.mon_view.filename() == "mux");
    CHECK(rig.mon_view.label() == "m");
}

TEST_CASE("chardev mux: C-a c switches, output of every view reaches the backend", "[chardev]") {
    MuxRig rig;
    rig.backend.type("\x01" "c" "info\r");
    spin(rig.loop);
    CHECK(rig.monitor.got == "info\r");
    CHECK(rig.serial.got.empty());
    CHECK(rig.serial.events.back() == "focus-");
    CHECK(rig.monitor.events.back() == "focus+");
    put(rig.ser_view, "guest ");
    put(rig.mon_view, "(qemu) ");
    CHECK(rig.backend.out == "guest (qemu) ");
    rig.backend.type("\x01" "c" "x");
    spin(rig.loop);
    CHECK(rig.serial.got == "x");
}

TEST_CASE("chardev mux: C-a C-a, unknown keys, help, break, flush, exit", "[chardev]") {
    MuxRig rig;
    rig.backend.type("a\x01\x01" "b\x01zq");
    CHECK(rig.serial.got == "a\x01" "bq");
    rig.backend.type("\x01h");
    CHECK(rig.backend.out == kHelpText);
    rig.backend.out.clear();
    rig.backend.type("\x01?");
    CHECK(rig.backend.out == kHelpText);
    rig.backend.type("\x01" "b");
    spin(rig.loop);
    CHECK(rig.serial.events.back() == "break");
    CHECK(rig.monitor.events.back() != "break");
    rig.backend.type("\x01s");
    CHECK(rig.flushes == 1);
    rig.backend.out.clear();
    rig.backend.type("\x01x");
    CHECK(rig.exits == 1);
    CHECK(rig.backend.out == "QEMU: Terminated\n\r");
}

TEST_CASE("chardev mux: C-a t stamps each new line", "[chardev]") {
    MuxRig rig;
    rig.backend.type("\x01t");
    put(rig.ser_view, "first\nsecond\n");
    CHECK(rig.backend.out == "first\n[00:00:00.000] second\n");
    rig.backend.type("\x01t");
    rig.backend.out.clear();
    put(rig.ser_view, "plain\n");
    CHECK(rig.backend.out == "plain\n");
}

TEST_CASE("chardev mux: a busy frontend keeps a small buffer, keys still work", "[chardev]") {
    MuxRig rig;
    rig.serial.room = 0;
    CHECK(rig.mux.can_receive() == MuxChardev::kViewBuffer);
    rig.backend.type("abc");
    CHECK(rig.serial.got.empty());
    rig.backend.type("\x01s");
    CHECK(rig.flushes == 1);
    rig.serial.room = 10;
    rig.ser_view.frontend_ready();
    spin(rig.loop);
    CHECK(rig.serial.got == "abc");
}

TEST_CASE("chardev mux: backend closed/opened reach every frontend", "[chardev]") {
    MuxRig rig;
    rig.mux.closed();
    CHECK(rig.monitor.events.back() == "closed");
    CHECK(rig.serial.events.back() == "closed");
}
