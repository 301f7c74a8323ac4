// A misbehaving driver on virtio-serial: short and unknown control
// messages, ports that do not exist, wild and endless chains, control
// floods. Nothing crashes or hangs, what is malformed is ignored, a broken
// ring asks for a reset.
#include "serial_test_harness.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

VirtioSerialPortSpec agent() {
    VirtioSerialPortSpec s;
    s.name = "agent";
    s.has_name = true;
    s.id = "channel0";
    return s;
}

} // namespace

TEST_CASE("virtio-serial: short, unknown and out-of-range control messages are ignored", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(agent());
    h.activate();
    h.give(2, 16);
    h.send(3, "abc");                        // shorter than a message
    h.control(0xffffffff, 6, 1);             // no such port
    h.control(3, 3, 1);                      // a port number below max_ports with no port
    h.control(1, 0x7777, 1);                 // unknown event
    h.control(1, 2, 1);                      // events only the device sends
    h.control(0, 0, 0);                      // DEVICE_READY failed
    CHECK(h.control_messages().empty());
    CHECK(h.events.empty());
    CHECK(h.received(3).size() == 6);        // every message was given back
    CHECK(h.needs_reset == 0);
    h.control(0, 0, 1);                      // and the queue still works
    CHECK(h.control_messages().size() == 1);
}

TEST_CASE("virtio-serial: a control message in writable buffers only is ignored", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(agent());
    h.activate();
    h.give(3, 1);
    CHECK(h.received(3).size() == 1);
    CHECK(h.needs_reset == 0);
}

TEST_CASE("virtio-serial: output on a port that does not exist is dropped", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(agent());
    h.activate();
    h.send(7, "to port 2");
    h.send(1, "to port 0");
    CHECK(h.received(7).size() == 1);
    CHECK(h.received(1).size() == 1);
    CHECK(h.hosts[1].out.empty());
}

TEST_CASE("virtio-serial: control messages without buffers are bounded", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(agent());
    h.activate();
    for (int i = 0; i < 1500; ++i) h.control(0, 0, 1);  // no control rx buffers
    CHECK(h.serial.pending_control() <= 1024);
    h.give(2, 8);
    CHECK(h.control_messages().size() == 8);
}

TEST_CASE("virtio-serial: an endless transmit chain breaks the queue", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(agent());
    h.serial.host_connected(1, true);
    h.activate();
    h.bring_up({1}, {1});
    TestRing& r = *h.rings[5];
    r.set_desc(0, kSerialBuffers, 64, kNext, 1);
    r.set_desc(1, kSerialBuffers + 64, 64, kNext, 0);
    r.make_available(0);
    h.kick_queue(5);
    CHECK(h.needs_reset == 1);
    CHECK(h.hosts[1].out.empty());
}

TEST_CASE("virtio-serial: buffers past guest RAM break the queue, nothing is written", "[virtio][serial]") {
    for (unsigned queue : {2u, 3u, 4u, 5u}) {
        SerialHarness h;
        h.add_port(agent());
        h.serial.host_connected(1, true);
        h.activate();
        if (queue != 2) h.bring_up({1}, {1});  // the control buffers would come first
        h.serial.host_input(1, {reinterpret_cast<const uint8_t*>("x"), 1});
        TestRing& r = *h.rings[queue];
        r.set_desc(r.next_free, kSerialRam - 16, 0xffffffff, queue % 2 == 0 ? kWrite : 0);
        r.make_available(r.next_free);
        h.kick_queue(queue);
        if (queue == 2) h.control(0, 0, 1);  // a message to put there
        CHECK(h.needs_reset >= 1);
    }
}

TEST_CASE("virtio-serial: a huge readable chain goes to the host in chunks", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(agent());
    h.serial.host_connected(1, true);
    h.activate();
    h.bring_up({1}, {1});
    h.send(5, std::string(300000, 'z'));
    CHECK(h.hosts[1].out.size() == 300000);
    CHECK(h.received(5).size() == 1);
}

TEST_CASE("virtio-serial: host input past the buffer is not taken", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(agent());
    h.activate();
    h.bring_up({1}, {1});
    std::vector<uint8_t> big(3 * VirtioSerial::kInputBuffer, 'q');
    h.serial.host_input(1, big);
    CHECK(h.serial.host_can_receive(1) == 0);
    h.give(4, 16, 256);
    size_t got = 0;
    for (const auto& s : h.received(4)) got += s.size();
    CHECK(got == VirtioSerial::kInputBuffer);
    CHECK(h.serial.host_can_receive(1) == VirtioSerial::kInputBuffer);
}
