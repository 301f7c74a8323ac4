#include "devices/serial/serial_16550.h"
#include "devices/serial/shared_irq_line.h"
#include "misc_test_fakes.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

using namespace kestrel;
using namespace kestrel::test;

namespace {
constexpr uint64_t RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
                   LSR = 5, MSR = 6, SCR = 7;

struct Uart {
    FakeIrq irq;
    FakeChardev chardev;
    Serial16550 dev{&chardev, irq};

    void receive(std::vector<uint8_t> bytes) { dev.receive(bytes); }
};
} // namespace

TEST_CASE("serial: power-on register values") {
    Uart u;
    CHECK(inb(u.dev, IER) == 0x00);
    CHECK(inb(u.dev, IIR) == 0x01);
    CHECK(inb(u.dev, LCR) == 0x00);
    CHECK(inb(u.dev, MCR) == 0x00);
    CHECK(inb(u.dev, LSR) == 0x60);  // THRE | TEMT
    CHECK(inb(u.dev, MSR) == 0xb0);  // CTS | DSR | DCD
    CHECK_FALSE(u.irq.level);
    CHECK(u.chardev.frontend() == &u.dev);
}

TEST_CASE("serial: divisor latch behind DLAB, scratch and IER masks") {
    Uart u;
    outb(u.dev, LCR, 0x83);
    outb(u.dev, DLL, 0x01);
    outb(u.dev, DLM, 0x00);
    CHECK(inb(u.dev, DLL) == 0x01);
    CHECK(inb(u.dev, DLM) == 0x00);
    CHECK(u.chardev.written.empty());  // divisor writes are not data
    CHECK(inb(u.dev, IER) == 0x00);    // nor IER writes
    outb(u.dev, LCR, 0x03);
    CHECK(inb(u.dev, LCR) == 0x03);
    outb(u.dev, IER, 0xff);
    CHECK(inb(u.dev, IER) == 0x0f);  // Linux's autoconfig checks exactly this
    outb(u.dev, IER, 0x00);
    outb(u.dev, SCR, 0xa5);
    CHECK(inb(u.dev, SCR) == 0xa5);
    outb(u.dev, LCR, 0x80);
    CHECK(inb(u.dev, DLL) == 0x01);  // kept across DLAB toggles
}

TEST_CASE("serial: transmitted bytes reach the chardev at once") {
    Uart u;
    for (char c : std::string("hi\n")) outb(u.dev, THR, uint8_t(c));
    CHECK(u.chardev.written == std::vector<uint8_t>{'h', 'i', '\n'});
    CHECK((inb(u.dev, LSR) & 0x60) == 0x60);
}

TEST_CASE("serial: no chardev discards output") {
    FakeIrq irq;
    Serial16550 dev(nullptr, irq);
    outb(dev, THR, 'x');
    CHECK((inb(dev, LSR) & 0x60) == 0x60);
    CHECK(dev.can_receive() == 1);
}

TEST_CASE("serial: THRE interrupt as Linux's 8250 startup test expects") {
    Uart u;
    outb(u.dev, IER, 0x02);
    CHECK(u.irq.level);
    CHECK((inb(u.dev, IIR) & 0x0f) == 0x02);
    CHECK_FALSE(u.irq.level);                   // acknowledged by the IIR read
    CHECK((inb(u.dev, IIR) & 0x0f) == 0x01);
    outb(u.dev, IER, 0x00);
    outb(u.dev, IER, 0x02);                     // re-enabling re-asserts it
    CHECK((inb(u.dev, IIR) & 0x0f) == 0x02);

    outb(u.dev, THR, 'a');                      // THR empties again at once
    CHECK(u.irq.level);
    outb(u.dev, IER, 0x00);
    CHECK_FALSE(u.irq.level);
    CHECK(inb(u.dev, IIR) == 0x01);
}

TEST_CASE("serial: THRE cleared by a THR write when not yet acknowledged") {
    Uart u;
    outb(u.dev, IER, 0x02);
    int edges = u.irq.rising_edges;
    outb(u.dev, THR, 'a');
    // Still pending (the THR emptied again), but not a second rising edge.
    CHECK(u.irq.level);
    CHECK(u.irq.rising_edges == edges);
}

TEST_CASE("serial: FIFO enable, trigger levels and character timeout") {
    Uart u;
    outb(u.dev, FCR, 0x01);
    CHECK((inb(u.dev, IIR) & 0xc0) == 0xc0);  // 16550A: FIFOs enabled
    outb(u.dev, IER, 0x01);
    u.receive({'a'});
    CHECK(inb(u.dev, IIR) == 0xc4);  // trigger level 1 reached
    CHECK(u.irq.level);
    CHECK(inb(u.dev, RBR) == 'a');
    CHECK_FALSE(u.irq.level);

    outb(u.dev, FCR, 0xc1);  // trigger at 14
    u.receive({1, 2, 3});
    CHECK(inb(u.dev, IIR) == 0xcc);  // below trigger: character timeout, not stuck
    CHECK(u.irq.level);
    u.receive(std::vector<uint8_t>(11, 7));
    CHECK(inb(u.dev, IIR) == 0xc4);  // 14 bytes: data available
    CHECK(u.dev.can_receive() == 2);

    outb(u.dev, FCR, 0xc3);  // clear RX FIFO
    CHECK((inb(u.dev, LSR) & 0x01) == 0);
    CHECK_FALSE(u.irq.level);
    CHECK(u.dev.can_receive() == 16);

    outb(u.dev, FCR, 0x00);  // FIFOs off: one holding register
    CHECK((inb(u.dev, IIR) & 0xc0) == 0);
    CHECK(u.dev.can_receive() == 1);
}

TEST_CASE("serial: LSR data ready and receive order") {
    Uart u;
    outb(u.dev, FCR, 0x07);
    u.receive({'x', 'y'});
    CHECK(inb(u.dev, LSR) == 0x61);
    CHECK(inb(u.dev, RBR) == 'x');
    CHECK(inb(u.dev, RBR) == 'y');
    CHECK(inb(u.dev, LSR) == 0x60);
}

TEST_CASE("serial: RX overflow sets OE and a line status interrupt") {
    Uart u;
    outb(u.dev, FCR, 0x01);
    outb(u.dev, IER, 0x05);
    u.receive(std::vector<uint8_t>(17, 'z'));
    CHECK(inb(u.dev, IIR) == 0xc6);  // line status outranks data available
    uint8_t lsr = inb(u.dev, LSR);
    CHECK((lsr & 0x02) == 0x02);
    CHECK((inb(u.dev, LSR) & 0x02) == 0);  // cleared by reading LSR
    CHECK(inb(u.dev, IIR) == 0xc4);
    int n = 0;
    while (inb(u.dev, LSR) & 0x01) {
        inb(u.dev, RBR);
        ++n;
    }
    CHECK(n == 16);  // the 17th byte was lost

    // Without FIFOs the new byte overwrites the holding register.
    outb(u.dev, FCR, 0x00);
    u.receive({'1', '2'});
    CHECK((inb(u.dev, LSR) & 0x03) == 0x03);
    CHECK(inb(u.dev, RBR) == '2');
}

TEST_CASE("serial: interrupt priorities") {
    Uart u;
    outb(u.dev, FCR, 0x01);
    outb(u.dev, IER, 0x0f);
    CHECK(inb(u.dev, IIR) == 0xc2);  // THRE (enabled just now)
    outb(u.dev, MCR, 0x10);          // loopback changes the modem lines: MSR deltas
    outb(u.dev, MCR, 0x00);
    CHECK(inb(u.dev, IIR) == 0xc0);  // modem status, lowest
    u.receive({'a'});
    CHECK(inb(u.dev, IIR) == 0xc4);  // data beats modem status
    u.dev.send_break();
    CHECK(inb(u.dev, IIR) == 0xc6);  // line status beats data
    CHECK((inb(u.dev, LSR) & 0x91) == 0x91);  // BI, FIFO error, DR
    CHECK(inb(u.dev, IIR) == 0xc4);
    inb(u.dev, RBR);
    CHECK(inb(u.dev, RBR) == 0x00);  // the break's zero byte
    CHECK(inb(u.dev, IIR) == 0xc0);
    CHECK((inb(u.dev, MSR) & 0x0f) != 0);
    CHECK(inb(u.dev, IIR) == 0xc1);
    CHECK_FALSE(u.irq.level);
}

TEST_CASE("serial: loopback as the 8250 autoconfig probe uses it") {
    Uart u;
    outb(u.dev, MCR, 0x1a);  // LOOP | OUT2 | RTS
    CHECK((inb(u.dev, MSR) & 0xf0) == 0x90);  // DCD | CTS
    outb(u.dev, MCR, 0x1f);
    CHECK((inb(u.dev, MSR) & 0xf0) == 0xf0);
    CHECK(u.dev.can_receive() == 0);  // the serial input is disconnected

    outb(u.dev, THR, 'L');
    CHECK(u.chardev.written.empty());
    CHECK((inb(u.dev, LSR) & 0x01) == 0x01);
    CHECK(inb(u.dev, RBR) == 'L');

    outb(u.dev, MCR, 0x1b);  // OUT1 (RI) falls: trailing edge of ring
    CHECK((inb(u.dev, MSR) & 0x04) == 0x04);
    outb(u.dev, MCR, 0x00);
    CHECK((inb(u.dev, MSR) & 0xf0) == 0xb0);
    CHECK(u.chardev.ready_calls >= 1);  // the backend is told input flows again
}

TEST_CASE("serial: 16550A identification as Linux probes it") {
    Uart u;
    outb(u.dev, FCR, 0x01);
    CHECK((inb(u.dev, IIR) >> 6) == 3);
    outb(u.dev, LCR, 0xbf);
    CHECK(inb(u.dev, IIR) != 0);  // no EFR: not a 16650
    outb(u.dev, LCR, 0x00);
    outb(u.dev, FCR, 0x21);       // 64-byte FIFO bit does not stick: not a 16750
    CHECK((inb(u.dev, IIR) >> 5) == 6);
}

TEST_CASE("serial: input respects can_receive and wakes the backend when drained") {
    Uart u;
    CHECK(u.dev.can_receive() == 1);
    u.receive({'a'});
    CHECK(u.dev.can_receive() == 0);
    CHECK(u.chardev.ready_calls == 0);
    CHECK(inb(u.dev, RBR) == 'a');
    CHECK(u.chardev.ready_calls == 1);
    CHECK(inb(u.dev, RBR) == 0);  // an empty read wakes nobody again
    CHECK(u.chardev.ready_calls == 1);

    outb(u.dev, FCR, 0x01);
    u.receive(std::vector<uint8_t>(16, 'b'));
    CHECK(u.dev.can_receive() == 0);
    for (int i = 0; i < 7; ++i) inb(u.dev, RBR);
    CHECK(u.chardev.ready_calls == 1);  // waits for half a FIFO of room
    inb(u.dev, RBR);
    CHECK(u.chardev.ready_calls == 2);
}

TEST_CASE("serial: reset returns to power-on state") {
    Uart u;
    outb(u.dev, FCR, 0x01);
    outb(u.dev, IER, 0x03);
    outb(u.dev, LCR, 0x03);
    outb(u.dev, MCR, 0x0b);
    u.receive({'q'});
    REQUIRE(u.irq.level);
    u.dev.reset();
    CHECK_FALSE(u.irq.level);
    CHECK(inb(u.dev, IER) == 0);
    CHECK(inb(u.dev, IIR) == 0x01);
    CHECK(inb(u.dev, LCR) == 0);
    CHECK(inb(u.dev, MCR) == 0);
    CHECK(inb(u.dev, LSR) == 0x60);
}

TEST_CASE("serial: odd accesses do not crash") {
    Uart u;
    uint8_t wide[4] = {0x11, 0x22, 0x33, 0x44};
    u.dev.write(6, wide);  // MSR, SCR, then past the end
    CHECK(inb(u.dev, SCR) == 0x22);
    u.dev.read(7, wide);
    CHECK(wide[0] == 0x22);
    CHECK(wide[1] == 0xff);
}

TEST_CASE("serial: COM port table") {
    CHECK(kComPorts[0].base == 0x3f8);
    CHECK(kComPorts[0].irq == 4);
    CHECK(kComPorts[1].base == 0x2f8);
    CHECK(kComPorts[1].irq == 3);
    CHECK(kComPorts[2].base == 0x3e8);
    CHECK(kComPorts[3].base == 0x2e8);
}

TEST_CASE("serial: shared IRQ line is the OR of its inputs") {
    FakeIrq out;
    SharedIrqLine shared(out);
    IrqLine& com1 = shared.add_input();
    IrqLine& com3 = shared.add_input();
    com1.set_level(true);
    com3.set_level(true);
    com1.set_level(false);
    CHECK(out.level);
    com3.set_level(false);
    CHECK_FALSE(out.level);
    CHECK(out.rising_edges == 1);
}

TEST_CASE("serial: vCPU threads and the input thread run concurrently") {
    struct CountingChardev final : Chardev {
        CountingChardev() : Chardev("count") {}
        std::string filename() const override { return "count"; }
        std::atomic<size_t> written{0};
        std::atomic<int> ready{0};
        void write(std::span<const uint8_t> data) override { written += data.size(); }
        void frontend_ready() override { ++ready; }
    } chardev;
    FakeIrq irq;  // only touched under the UART's lock
    Serial16550 dev(&chardev, irq);
    outb(dev, FCR, 0x01);
    outb(dev, IER, 0x0f);

    constexpr size_t kBytes = 20000;
    std::atomic<size_t> received{0};
    std::thread input([&] {
        size_t sent = 0;
        while (sent < kBytes) {
            size_t room = std::min(dev.can_receive(), kBytes - sent);
            if (room == 0) {
                std::this_thread::yield();
                continue;
            }
            std::vector<uint8_t> chunk(room, 'r');
            dev.receive(chunk);
            sent += room;
        }
    });
    std::thread reader([&] {
        while (received < kBytes) {
            if (inb(dev, LSR) & 0x01) {
                inb(dev, RBR);
                ++received;
            }
            inb(dev, IIR);
        }
    });
    std::thread writer([&] {
        for (int i = 0; i < 5000; ++i) {
            outb(dev, THR, 'w');
            inb(dev, MSR);
        }
    });
    input.join();
    reader.join();
    writer.join();
    CHECK(received == kBytes);
    CHECK(chardev.written == 5000);
    CHECK(chardev.ready > 0);
}
