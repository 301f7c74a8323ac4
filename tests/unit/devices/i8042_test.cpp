#include "devices/bus.h"
#include "devices/i8042/i8042.h"
#include "misc_test_fakes.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

struct Kbc {
    FakeIrq irq1, irq12;
    FakeMachineControl control;
    std::shared_ptr<I8042> dev = std::make_shared<I8042>(irq1, irq12, control);
    Bus pio{"pio"};

    Kbc() {
        pio.insert(I8042::kDataPort, 1, dev);
        pio.insert(I8042::kCommandPort, 1, std::make_shared<I8042CommandPort>(dev));
    }
    uint8_t status() { return in(0x64); }
    uint8_t data() { return in(0x60); }
    void command(uint8_t c) { out(0x64, c); }
    void write_data(uint8_t v) { out(0x60, v); }
    uint8_t in(uint16_t port) {
        uint8_t v = 0;
        pio.read(port, {&v, 1});
        return v;
    }
    void out(uint16_t port, uint8_t v) { pio.write(port, {&v, 1}); }
    std::vector<uint8_t> drain() {
        std::vector<uint8_t> bytes;
        while (status() & 0x01) bytes.push_back(data());
        return bytes;
    }
};

using Bytes = std::vector<uint8_t>;

} // namespace

TEST_CASE("i8042: power-on status and command byte") {
    Kbc k;
    CHECK(k.status() == 0x18);  // CMD/DATA and keyboard not inhibited
    CHECK(k.dev->command_byte() == 0x03);
    CHECK(k.in(0x61) == 0xff);  // not ours
}

TEST_CASE("i8042: self test and interface tests") {
    Kbc k;
    k.command(0xaa);
    CHECK((k.status() & 0x05) == 0x05);  // OBF and SYS flag
    CHECK(k.data() == 0x55);
    CHECK((k.status() & 0x01) == 0);
    k.command(0xab);
    CHECK(k.data() == 0x00);
    k.command(0xa9);
    CHECK(k.data() == 0x00);
}

TEST_CASE("i8042: command byte round trip and port disable bits") {
    Kbc k;
    k.command(0x60);
    k.write_data(0x47);
    CHECK((k.status() & 0x08) == 0);  // last write was data
    k.command(0x20);
    CHECK(k.data() == 0x47);
    CHECK((k.status() & 0x04) == 0x04);  // SYS follows bit 2
    k.command(0xa7);
    k.command(0x20);
    CHECK((k.data() & 0x20) == 0x20);
    k.command(0xa8);
    k.command(0xad);
    k.command(0x20);
    CHECK(k.data() == 0x57);
    k.command(0xae);
    k.command(0x20);
    CHECK(k.data() == 0x47);
}

TEST_CASE("i8042: keyboard reset and identify with IRQ 1") {
    Kbc k;
    k.write_data(0xff);
    CHECK(k.irq1.level);
    CHECK_FALSE(k.irq12.level);
    CHECK(k.drain() == Bytes{0xfa, 0xaa});
    CHECK_FALSE(k.irq1.level);
    CHECK(k.irq1.rising_edges == 2);  // one edge per byte

    k.write_data(0xf2);
    CHECK(k.drain() == Bytes{0xfa, 0xab, 0x83});
    k.command(0x60);
    k.write_data(0x43);  // translation on
    k.write_data(0xf2);
    CHECK(k.drain() == Bytes{0xfa, 0xab, 0x41});
}

TEST_CASE("i8042: keyboard commands") {
    Kbc k;
    k.write_data(0xed);
    k.write_data(0x07);
    CHECK(k.drain() == Bytes{0xfa, 0xfa});
    k.write_data(0xee);
    CHECK(k.drain() == Bytes{0xee});
    k.write_data(0xf0);
    k.write_data(0x00);
    CHECK(k.drain() == Bytes{0xfa, 0xfa, 0x02});
    k.write_data(0xf3);
    CHECK(k.drain() == Bytes{0xfa});
    k.write_data(0x20);
    CHECK(k.drain() == Bytes{0xfa});
    for (uint8_t cmd : {0xf4, 0xf5, 0xf6}) {
        k.write_data(cmd);
        CHECK(k.drain() == Bytes{0xfa});
    }
    k.write_data(0x42);  // not a command
    CHECK(k.drain() == Bytes{0xfe});
}

TEST_CASE("i8042: IRQ 1 only when enabled in the command byte") {
    Kbc k;
    k.command(0x60);
    k.write_data(0x00);
    k.write_data(0xee);
    CHECK((k.status() & 0x01) == 0x01);
    CHECK_FALSE(k.irq1.level);
    k.command(0x60);  // enabling with a byte waiting raises it
    k.write_data(0x01);
    CHECK(k.irq1.level);
    CHECK(k.data() == 0xee);
    CHECK_FALSE(k.irq1.level);
}

TEST_CASE("i8042: CPU reset through command 0xfe and the output port") {
    Kbc k;
    k.command(0xfe);
    REQUIRE(k.control.resets.size() == 1);
    CHECK(k.control.resets[0] == ShutdownCause::GuestReset);
    k.command(0xff);  // pulses nothing
    CHECK(k.control.resets.size() == 1);
    k.command(0xd1);
    k.write_data(0x03);  // reset line high: no reset
    CHECK(k.control.resets.size() == 1);
    k.command(0xd0);
    CHECK((k.data() & 0x03) == 0x03);
    k.command(0xd1);
    k.write_data(0x02);
    CHECK(k.control.resets.size() == 2);
}

TEST_CASE("i8042: aux loopback raises IRQ 12 (Linux's AUX probe)") {
    Kbc k;
    k.command(0xd3);
    k.write_data(0x5a);
    CHECK((k.status() & 0x21) == 0x21);
    CHECK(k.irq12.level);
    CHECK_FALSE(k.irq1.level);
    CHECK(k.data() == 0x5a);
    CHECK_FALSE(k.irq12.level);
    k.command(0xd2);
    k.write_data(0x33);
    CHECK((k.status() & 0x21) == 0x01);
    CHECK(k.data() == 0x33);
}

TEST_CASE("i8042: PS/2 mouse probe and IntelliMouse knock") {
    Kbc k;
    auto mouse = [&](uint8_t b) {
        k.command(0xd4);
        k.write_data(b);
    };
    mouse(0xff);
    CHECK(k.drain() == Bytes{0xfa, 0xaa, 0x00});
    mouse(0xf2);
    CHECK(k.drain() == Bytes{0xfa, 0x00});
    for (uint8_t rate : {200, 100, 80}) {
        mouse(0xf3);
        mouse(rate);
    }
    k.drain();
    mouse(0xf2);
    CHECK(k.drain() == Bytes{0xfa, 0x03});
    mouse(0xe8);
    mouse(0x03);
    mouse(0xe6);
    mouse(0xf4);
    CHECK(k.drain() == Bytes{0xfa, 0xfa, 0xfa, 0xfa});
    k.dev->put_mouse_event(5, -3, 1, Ps2Mouse::kLeft);
    CHECK(k.irq12.level);
    CHECK(k.drain() == Bytes{0x29, 0x05, 0xfd, 0x01});
    mouse(0xe9);
    CHECK(k.drain() == Bytes{0xfa, 0x24, 0x03, 80});
}

TEST_CASE("i8042: a long move is several whole PS/2 packets, a full queue takes none in part") {
    Kbc k;
    k.command(0xd4);
    k.write_data(0xf4);  // enable reporting
    CHECK(k.drain() == Bytes{0xfa});
    k.dev->put_mouse_event(600, -300, 0, 0);
    CHECK(k.drain() == Bytes{0x28, 0xff, 0x00, 0x28, 0xff, 0xd4, 0x08, 0x5a, 0x00});
    // The guest reads nothing while moves keep coming: the queue holds
    // whole packets only, the rest of the move comes with the next event.
    for (int i = 0; i < 100; ++i) k.dev->put_mouse_event(1, 0, 0, 0);
    Bytes got = k.drain();
    REQUIRE(got.size() % 3 == 0);
    for (size_t i = 0; i < got.size(); i += 3) CHECK((got[i] & 0x08) != 0);
    int moved = 0;
    for (size_t i = 0; i < got.size(); i += 3) moved += got[i + 1];
    k.dev->put_mouse_event(0, 0, 0, 0);
    got = k.drain();
    for (size_t i = 0; i < got.size(); i += 3) moved += got[i + 1];
    CHECK(moved == 100);
}

TEST_CASE("i8042: keyboard input, translation and the disable bit") {
    Kbc k;
    k.dev->put_keyboard_bytes(Bytes{0x1c, 0xf0, 0x1c});  // 'a' make/break, set 2
    CHECK(k.drain() == Bytes{0x1c, 0xf0, 0x1c});
    k.command(0x60);
    k.write_data(0x43);
    k.dev->put_keyboard_bytes(Bytes{0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75});
    CHECK(k.drain() == Bytes{0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8});
    k.command(0xad);
    k.dev->put_keyboard_bytes(Bytes{0x76});
    CHECK((k.status() & 0x01) == 0);
    k.command(0xae);
    CHECK(k.drain() == Bytes{0x01});
    k.write_data(0xf5);  // scanning off: input dropped
    k.drain();
    k.dev->put_keyboard_bytes(Bytes{0x76});
    CHECK((k.status() & 0x01) == 0);
}

TEST_CASE("i8042: reset returns to power-on state") {
    Kbc k;
    k.command(0x60);
    k.write_data(0x20);
    k.write_data(0xee);
    k.dev->reset();
    CHECK(k.status() == 0x18);
    CHECK(k.dev->command_byte() == 0x03);
    CHECK_FALSE(k.irq1.level);
}

TEST_CASE("i8042: the state SeaBIOS leaves, for a kernel booted without firmware") {
    Kbc k;
    k.dev->post_firmware_state();
    k.command(0x20);
    CHECK(k.data() == 0x61);  // keyboard interrupt, mouse port off, translation on
    CHECK(k.dev->keyboard_scancode_set() == 2);
    int edges = k.irq1.rising_edges;
    k.write_data(0xf2);  // Linux's atkbd probe: the translated ID, on IRQ 1
    CHECK(k.drain() == Bytes{0xfa, 0xab, 0x41});
    CHECK(k.irq1.rising_edges == edges + 3);
    k.dev->put_keyboard_bytes(Bytes{0xf0, 0x1c});  // break of "A" in set 2
    CHECK(k.drain() == Bytes{0x9e});
    k.dev->reset();  // the hardware's own reset state stays QEMU's
    CHECK(k.dev->command_byte() == 0x03);
}

TEST_CASE("i8042: set 2 to set 1 translation table") {
    CHECK(translate_set2_to_set1(0x76) == 0x01);  // Esc
    CHECK(translate_set2_to_set1(0x5a) == 0x1c);  // Enter
    CHECK(translate_set2_to_set1(0x29) == 0x39);  // Space
    CHECK(translate_set2_to_set1(0x83) == 0x41);  // F7
    CHECK(translate_set2_to_set1(0xfa) == 0xfa);  // ACK passes through
}
