// virtio-serial as the Linux driver drives it: the control handshake,
// data both ways, host and guest opening and closing ports, flow control.
#include "serial_test_harness.h"
#include "virtio/serial/virtio_serial_bus.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

VirtioSerialPortSpec port(std::string name, std::string id = {}, bool console = false) {
    VirtioSerialPortSpec s;
    s.name = std::move(name);
    s.has_name = !s.name.empty();
    s.id = std::move(id);
    s.console = console;
    return s;
}

} // namespace

TEST_CASE("virtio-serial: the handshake announces ports, names, consoles and open hosts", "[virtio][serial]") {
    SerialHarness h;
    CHECK(h.add_port(port("", "con0", true)) == 0);
    CHECK(h.add_port(port("org.qemu.guest_agent.0", "channel0")) == 1);
    h.serial.host_connected(1, true);  // before the driver: no message yet
    h.activate();
    h.bring_up({}, {});
    auto adds = h.control_messages();
    REQUIRE(adds.size() == 2);
    CHECK((adds[0].id == 0 && adds[0].event == 1 && adds[0].value == 1));
    CHECK((adds[1].id == 1 && adds[1].event == 1));
    h.control(0, 3, 1);
    h.control(1, 3, 1);
    auto ready = h.control_messages();
    REQUIRE(ready.size() == 3);
    CHECK((ready[0].id == 0 && ready[0].event == 4 && ready[0].value == 1));  // CONSOLE_PORT
    CHECK((ready[1].id == 1 && ready[1].event == 7));                         // PORT_NAME
    CHECK(ready[1].text == std::string("org.qemu.guest_agent.0") + '\0');
    CHECK((ready[2].id == 1 && ready[2].event == 6 && ready[2].value == 1));  // PORT_OPEN: host is there
    CHECK(h.needs_reset == 0);
}

TEST_CASE("virtio-serial: guest output reaches the host, host input the open port", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(port("agent", "channel0"));
    h.serial.host_connected(1, true);
    h.activate();
    h.bring_up({1}, {1});
    REQUIRE(h.events == std::vector<std::pair<std::string, bool>>{{"channel0", true}});
    h.send(5, "hello from the guest\n");
    CHECK(h.hosts[1].out == "hello from the guest\n");
    CHECK(h.received(5).size() == 1);
    CHECK(h.serial.host_can_receive(1) == VirtioSerial::kInputBuffer);
    h.serial.host_input(1, {reinterpret_cast<const uint8_t*>("ping\n"), 5});
    h.give(4, 1);
    CHECK(h.received(4) == std::vector<std::string>{"ping\n"});
}

TEST_CASE("virtio-serial: a closed port takes no host input", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(port("agent", "channel0"));
    h.activate();
    h.bring_up({1}, {});
    CHECK(h.serial.host_can_receive(1) == 0);
    h.control(1, 6, 1);
    CHECK(h.serial.host_can_receive(1) > 0);
    CHECK(h.hosts[1].accept_input_calls > 0);
    h.control(1, 6, 0);
    CHECK(h.serial.host_can_receive(1) == 0);
    CHECK(h.events == std::vector<std::pair<std::string, bool>>{{"channel0", true}, {"channel0", false}});
}

TEST_CASE("virtio-serial: a full host stops the port and loses nothing", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(port("agent"));
    h.serial.host_connected(1, true);
    h.activate();
    h.bring_up({1}, {1});
    h.hosts[1].room = 5;
    h.send(5, "0123456789");
    h.send(5, "abc");
    CHECK(h.hosts[1].out == "01234");
    CHECK(h.received(5).empty());  // the chain stays with the device
    CHECK(h.serial.port_state(1)->throttled);
    h.hosts[1].room = 6;
    h.serial.host_writable(1);
    CHECK(h.hosts[1].out == "0123456789a");
    CHECK(h.received(5).size() == 1);
    h.hosts[1].room = SIZE_MAX;
    h.serial.host_writable(1);
    CHECK(h.hosts[1].out == "0123456789abc");
    CHECK(h.received(5).size() == 1);
    CHECK_FALSE(h.serial.port_state(1)->throttled);
}

TEST_CASE("virtio-serial: the host leaving closes the port for the guest and drops its output",
          "[virtio][serial]") {
    SerialHarness h;
    h.add_port(port("agent"));
    h.serial.host_connected(1, true);
    h.activate();
    h.bring_up({1}, {1});
    h.control_messages();
    h.hosts[1].room = 0;
    h.send(5, "stuck");
    h.serial.host_connected(1, false);
    auto m = h.control_messages();
    REQUIRE(m.size() == 1);
    CHECK((m[0].id == 1 && m[0].event == 6 && m[0].value == 0));
    CHECK(h.received(5).size() == 1);  // the held chain went back
    h.send(5, "nobody");               // and output is dropped meanwhile
    CHECK(h.received(5).size() == 1);
    CHECK(h.hosts[1].out.empty());
}

TEST_CASE("virtio-serial: a console drops what its host does not take", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(port("", "", true));
    h.serial.host_connected(0, true);
    h.activate();
    h.bring_up({0}, {0});
    h.hosts[0].room = 3;
    h.send(1, "console");
    CHECK(h.hosts[0].out == "con");
    CHECK(h.received(1).size() == 1);
}

TEST_CASE("virtio-serial: a reset closes the guest's ports", "[virtio][serial]") {
    SerialHarness h;
    h.add_port(port("agent", "channel0"));
    h.activate();
    h.bring_up({1}, {1});
    h.serial.reset();
    CHECK_FALSE(h.serial.port_state(1)->guest_connected);
    CHECK(h.events.back() == std::pair<std::string, bool>{"channel0", false});
}

TEST_CASE("virtio-serial: without multiport port 0 is open once the driver is", "[virtio][serial]") {
    SerialHarness h(1);
    h.add_port(port("", "", true));
    CHECK((h.serial.device_features() & kSerialMultiport) == 0);
    h.activate(kSerialFeatures & ~kSerialMultiport);
    CHECK(h.serial.port_state(0)->guest_connected);
}

TEST_CASE("virtio-serial: config space and emergency write", "[virtio][serial]") {
    SerialHarness h(31);
    h.add_port(port("", "", true));
    uint8_t config[12];
    h.serial.read_config(0, config);
    uint32_t max;
    std::memcpy(&max, config + 4, 4);
    CHECK(max == 31);
    CHECK(h.serial.config_size() == 12);
    const uint8_t emerg[4] = {'!', 0, 0, 0};
    h.serial.write_config(8, emerg);
    CHECK(h.hosts[0].out == "!");
}

TEST_CASE("virtio-serial: port numbers and errors as QEMU's", "[virtio][serial]") {
    std::vector<VirtioSerialPortSpec> ports;
    auto add = [&](VirtioSerialPortSpec s, uint32_t max = 31) {
        s.nr = choose_port_nr(s, ports, max);
        ports.push_back(s);
        return s.nr;
    };
    CHECK(add(port("a")) == 1);
    CHECK(add(port("", "", true)) == 0);  // a console takes 0 while it is free
    CHECK(add(port("", "", true)) == 2);
    VirtioSerialPortSpec at1 = port("b");
    at1.nr = 1;
    CHECK_THROWS_WITH(add(at1), "virtio-serial-bus: A port already exists at id 1");
    VirtioSerialPortSpec far = port("c");
    far.nr = 31;
    CHECK_THROWS_WITH(add(far), "virtio-serial-bus: Out-of-range port id specified, max. allowed: 30");
    ports.clear();
    VirtioSerialPortSpec zero = port("d");
    zero.nr = 0;
    CHECK_THROWS_WITH(add(zero), "Port number 0 on virtio-serial devices reserved for virtconsole devices for "
                                 "backward compatibility.");
    CHECK_THROWS_WITH(add(port("e"), 1), "virtio-serial-bus: Out-of-range port id specified, max. allowed: 0");
    ports.clear();
    for (uint32_t i = 1; i < 32; ++i) add(port(""), 32);
    CHECK_THROWS_WITH(add(port(""), 32), "virtio-serial-bus: Maximum port limit for this device reached");
    std::vector<VirtioSerialPortSpec> named = {port("x")};
    CHECK_THROWS_WITH(check_port_name(port("x"), named), "virtio-serial-bus: A port already exists by name x");
}

TEST_CASE("virtio-serial: a port added and removed while the driver runs (device_add, device_del)",
          "[virtio][serial][hotplug]") {
    SerialHarness h;
    h.add_port(port("agent", "channel0"));
    h.activate();
    h.bring_up({1}, {});
    h.control_messages();
    CHECK(h.add_port(port("org.kestrel.hot.0", "hot0")) == 2);
    auto added = h.control_messages();
    REQUIRE(added.size() == 1);
    CHECK((added[0].id == 2 && added[0].event == 1 && added[0].value == 1));  // PORT_ADD
    h.control(2, 3, 1);
    auto ready = h.control_messages();
    REQUIRE(ready.size() == 1);
    CHECK((ready[0].id == 2 && ready[0].event == 7));  // PORT_NAME

    h.send(7, "not taken");  // the port's transmit queue, its host has not connected
    h.serial.remove_port(2);
    auto removed = h.control_messages();
    REQUIRE(removed.size() == 1);
    CHECK((removed[0].id == 2 && removed[0].event == 2 && removed[0].value == 1));  // PORT_REMOVE
    CHECK(h.serial.port_state(2) == nullptr);
    CHECK(h.serial.ports().size() == 1);
    h.serial.remove_port(2);  // gone already: nothing
    CHECK(h.control_messages().empty());
    // Its name and number are free again.
    CHECK(h.add_port(port("org.kestrel.hot.0", "hot1")) == 2);
    CHECK(h.needs_reset == 0);
}
