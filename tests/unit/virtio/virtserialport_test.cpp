// virtserialport and virtconsole on their chardevs: query-chardev's
// "frontend-open" follows the guest's end of a virtserialport (PORT_OPEN),
// as QEMU 7.2's virtio-console does, and is always set for a virtconsole.
// libvirt reads it for the guest agent channel: set while no agent runs,
// libvirt connects to the agent's socket and then logs "End of file from
// agent socket".
#include "chardev/chardev_set.h"
#include "serial_test_harness.h"
#include "tests/unit/chardev/chardev_test_util.h"
#include "tests/unit/devices/fake_device_context.h"
#include "virtio/serial/virtio_serial_bus.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

constexpr uint16_t kPortOpen = 6;

// libvirt's guest agent channel (a Unix socket server with no client yet)
// and a console, as ports of the harness's virtio-serial.
struct PortRig {
    TempDir dir;
    SerialHarness h;
    FakeDeviceContext ctx;
    VirtioSerialBuses buses;
    ChardevSet chardevs{{socket_server("charchannel0"), socket_server("charconsole0")}, h.loop};
    std::vector<std::unique_ptr<Device>> ports;

    PortRig() {
        buses.add("virtio-serial0", h.serial);
        ctx.registry.add<VirtioSerialBuses>(buses);
        ports.push_back(realize("virtconsole", "console0", "charconsole0", ""));
        ports.push_back(realize("virtserialport", "channel0", "charchannel0", "org.qemu.guest_agent.0"));
        // As the machine does once every device is realized.
        for (size_t i = 0; i < ctx.chardev_connects.size(); ++i)
            ctx.chardev_connects[i](chardevs.claim(ctx.chardev_ids[i]));
    }
    ~PortRig() {
        h.serial.reset();  // while the ports' host ends are still there
        for (auto& p : ports) p->unrealize();
    }

    ChardevConfig socket_server(const std::string& id) {
        ChardevConfig cfg;
        cfg.id = id;
        cfg.backend = "socket";
        cfg.options = {{"path", dir.path + "/" + id}, {"server", "on"}, {"wait", "off"}};
        return cfg;
    }
    std::unique_ptr<Device> realize(const char* type, const char* id, const char* chardev, const char* name) {
        const DeviceType* t = find_device_type(type);
        DeviceConfig config{"", t, id, false, t->default_values()};
        config.props.set("chardev", chardev);
        if (*name) config.props.set("name", name);
        return ctx.realize(std::move(config));
    }
    // query-chardev's frontend-open of chardev `label`.
    bool frontend_open(const std::string& label) {
        for (const ChardevInfo& info : chardevs.info())
            if (info.label == label) return info.frontend_open;
        FAIL("no chardev " << label);
        return false;
    }
};

} // namespace

TEST_CASE("virtserialport: frontend-open follows the guest's end of the port", "[virtio][serial][chardev]") {
    PortRig rig;
    // Realized, the driver not there yet: QEMU's port leaves it unset.
    CHECK_FALSE(rig.frontend_open("charchannel0"));
    rig.h.activate();
    rig.h.bring_up({0, 1}, {});
    CHECK_FALSE(rig.frontend_open("charchannel0"));  // ready but closed (no agent)
    rig.h.control(1, kPortOpen, 1);
    CHECK(rig.frontend_open("charchannel0"));
    rig.h.control(1, kPortOpen, 0);
    CHECK_FALSE(rig.frontend_open("charchannel0"));
    rig.h.control(1, kPortOpen, 1);
    rig.h.serial.reset();  // the guest's driver goes: the port is closed
    CHECK_FALSE(rig.frontend_open("charchannel0"));
}

TEST_CASE("virtserialport: VSERPORT_CHANGE and frontend-open agree when the event is sent",
          "[virtio][serial][chardev]") {
    PortRig rig;
    std::vector<std::pair<bool, bool>> seen;  // (event's open, frontend-open then)
    rig.h.on_event = [&](const std::string& id, bool open) {
        if (id == "channel0") seen.emplace_back(open, rig.frontend_open("charchannel0"));
    };
    rig.h.activate();
    rig.h.bring_up({0, 1}, {1});
    rig.h.control(1, kPortOpen, 0);
    CHECK(seen == std::vector<std::pair<bool, bool>>{{true, true}, {false, false}});
}

TEST_CASE("virtconsole: frontend-open is always set, whatever the guest does", "[virtio][serial][chardev]") {
    PortRig rig;
    CHECK(rig.frontend_open("charconsole0"));
    rig.h.activate();
    rig.h.bring_up({0, 1}, {0});
    CHECK(rig.frontend_open("charconsole0"));
    rig.h.control(0, kPortOpen, 0);
    CHECK(rig.frontend_open("charconsole0"));
}

TEST_CASE("virtserialport: an unplugged port's chardev has no open frontend", "[virtio][serial][chardev]") {
    PortRig rig;
    rig.h.activate();
    rig.h.bring_up({0, 1}, {1});
    REQUIRE(rig.frontend_open("charchannel0"));
    rig.ports[1]->unrealize();
    CHECK_FALSE(rig.frontend_open("charchannel0"));
}

TEST_CASE("virtio-serial buses: QEMU's names, and a port without bus= goes to the newest", "[virtio][serial]") {
    SerialHarness a, b, c, d;
    VirtioSerialBuses buses;
    CHECK(buses.add("vs0", a.serial) == "vs0.0");
    CHECK(buses.add("", b.serial) == "virtio-serial-bus.0");  // the ids count controllers without one
    CHECK(buses.add("", c.serial) == "virtio-serial-bus.1");
    CHECK(buses.find("") == &c.serial);
    CHECK(buses.find("virtio-serial-bus.0") == &b.serial);
    CHECK(buses.find("vs0.0") == &a.serial);
    CHECK(buses.find("virtio-serial-bus.2") == nullptr);
    buses.remove(c.serial);
    CHECK(buses.find("") == &b.serial);
    CHECK(buses.add("", d.serial) == "virtio-serial-bus.2");  // never reused, as QEMU's automatic ids
}

TEST_CASE("virtserialport on a null chardev: closed on the host side, as QEMU's", "[virtio][serial][chardev]") {
    SerialHarness h;
    FakeDeviceContext ctx;
    VirtioSerialBuses buses;
    buses.add("vs0", h.serial);
    ctx.registry.add<VirtioSerialBuses>(buses);
    ChardevConfig null_cfg;
    null_cfg.id = "n0";
    null_cfg.backend = "null";
    ChardevSet chardevs{{null_cfg}, h.loop};
    const DeviceType* t = find_device_type("virtserialport");
    DeviceConfig config{"", t, "p0", false, t->default_values()};
    config.props.set("chardev", "n0");
    auto port = ctx.realize(std::move(config));
    for (size_t i = 0; i < ctx.chardev_connects.size(); ++i) ctx.chardev_connects[i](chardevs.claim(ctx.chardev_ids[i]));
    h.pump();
    const VirtioSerialPortState* state = h.serial.port_state(1);
    REQUIRE(state);
    CHECK_FALSE(state->host_connected);
    QtreeNode node;
    port->describe(node);
    CHECK(node.lines == std::vector<std::string>{"port 1, guest off, host off, throttle off"});
    h.serial.reset();
    port->unrealize();
}
