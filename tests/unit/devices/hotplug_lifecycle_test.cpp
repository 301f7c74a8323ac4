// What device_del relies on beyond the PCI slot: a device's unrealize
// withdraws what it registered (the balloon's service, a controller's bus),
// a bus's devices name the bus their controller provides (so they go with
// it), the machine learns which threads each device started, and a
// released chardev can be claimed again.
#include "chardev/chardev_set.h"
#include "devices/balloon_service.h"
#include "devices/device_tree.h"
#include "devices/usb/usb_bus.h"
#include "fake_device_context.h"
#include "ui/input.h"
#include "tests/unit/chardev/chardev_test_util.h"
#include "tests/unit/virtio/pci/virtio_pci_fakes.h"
#include "virtio/serial/virtio_serial_bus.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

DeviceConfig config_of(std::string_view type, std::string id,
                       std::initializer_list<std::pair<const char*, const char*>> props = {}) {
    const DeviceType* t = find_device_type(type);
    REQUIRE(t);
    DeviceConfig c{"", t, std::move(id), false, t->default_values()};
    for (auto [key, value] : props) c.props.set(key, value);
    return c;
}


} // namespace

TEST_CASE("hot unplug: the balloon withdraws its service, and another balloon takes its place",
          "[hotplug][balloon]") {
    FakeDeviceContext ctx;
    ctx.io_plumbing = std::make_shared<FakePlumbing>();  // virtio devices notify through it
    BalloonEvents events;
    std::vector<uint64_t> changes;
    events.on_change([&](uint64_t actual) { changes.push_back(actual); });
    ctx.registry.add<BalloonEvents>(events);

    auto first = ctx.realize(config_of("virtio-balloon-pci", "b0", {{"addr", "5"}}));
    BalloonService* service = ctx.registry.find<BalloonService>();
    REQUIRE(service);
    CHECK(service->actual() == ctx.ram.ram_size());
    first->unrealize();
    CHECK(ctx.registry.find<BalloonService>() == nullptr);  // "No balloon device has been activated"

    ctx.pci_bus.remove_device(5, 0);
    auto second = ctx.realize(config_of("virtio-balloon-pci", "b1", {{"addr", "6"}}));
    CHECK(ctx.registry.find<BalloonService>() != nullptr);
    CHECK(ctx.registry.find<BalloonService>() != service);
    second->unrealize();
    CHECK(changes.empty());  // no guest: nothing reported
}

TEST_CASE("hot unplug: USB devices sit on the bus their host controller provides", "[hotplug][usb]") {
    FakeDeviceContext ctx;
    UsbBuses buses;
    ctx.registry.add<UsbBuses>(buses);
    InputService input;
    ctx.registry.add<InputService>(input);

    auto uhci = ctx.realize(config_of("piix3-usb-uhci", "uhci0", {{"addr", "5"}}));
    auto tablet = ctx.realize(config_of("usb-tablet", "tab0"));
    REQUIRE(uhci->child_bus() != nullptr);
    CHECK(uhci->parent_bus() == nullptr);
    CHECK(tablet->parent_bus() == uhci->child_bus());
    CHECK(tablet->child_bus() == nullptr);
    CHECK(buses.attached().size() == 1);

    tablet->unrealize();
    CHECK(tablet->parent_bus() == nullptr);
    CHECK(buses.attached().empty());
    auto again = ctx.realize(config_of("usb-tablet", "tab1"));  // the port is free again
    CHECK(again->parent_bus() == uhci->child_bus());
    again->unrealize();
    uhci->unrealize();
    CHECK(buses.empty());
    CHECK_THROWS_WITH(ctx.realize(config_of("usb-tablet", "tab2")), "No 'usb-bus' bus found for device 'usb-tablet'");
}

TEST_CASE("hot unplug: ports sit on the bus their virtio-serial provides", "[hotplug][serial]") {
    TempDir dir;
    FakeDeviceContext ctx;
    ctx.io_plumbing = std::make_shared<FakePlumbing>();  // virtio devices notify through it
    VirtioSerialBuses buses;
    ctx.registry.add<VirtioSerialBuses>(buses);
    ChardevConfig chr;
    chr.id = "c0";
    chr.backend = "socket";
    chr.options = {{"path", dir.path + "/c0"}, {"server", "on"}, {"wait", "off"}};
    ChardevSet chardevs({chr}, ctx.loop);

    auto serial = ctx.realize(config_of("virtio-serial-pci", "vs0", {{"addr", "5"}}));
    auto port = ctx.realize(config_of("virtserialport", "p0", {{"chardev", "c0"}, {"nr", "1"}}));
    for (size_t i = 0; i < ctx.chardev_connects.size(); ++i) ctx.chardev_connects[i](chardevs.claim(ctx.chardev_ids[i]));
    REQUIRE(serial->child_bus() != nullptr);
    CHECK(port->parent_bus() == serial->child_bus());
    port->unrealize();
    chardevs.release("c0");
    serial->unrealize();
    CHECK(buses.count() == 0);
    CHECK_THROWS_WITH(ctx.realize(config_of("virtserialport", "p1", {{"chardev", "c0"}})),
                      "No 'virtio-serial-bus' bus found for device 'virtserialport'");
}

TEST_CASE("device tree: the machine hears of each device once it is realized", "[hotplug][model]") {
    FakeDeviceContext ctx;
    DeviceTree tree;
    auto serial = [](const char* iobase, const char* id) {
        DeviceConfig c = config_of("isa-serial", id, {{"iobase", iobase}, {"irq", "4"}});
        return c.type->create(std::move(c));
    };
    tree.add(serial("0x3f8", "s0"), false);
    tree.add(serial("0x2f8", "s1"), false);
    std::vector<std::string> heard;
    tree.on_realized([&](const Device& device) {
        const uint16_t scratch = uint16_t(device.properties().uint("iobase") + 7);
        ctx.out(scratch, 0x5a, 1);  // on the bus already
        heard.push_back(device.id() + (ctx.in(scratch, 1) == 0x5a ? " realized" : " not realized"));
    });
    tree.realize_all(ctx);
    CHECK(heard == std::vector<std::string>{"s0 realized", "s1 realized"});
    tree.on_realized(nullptr);
    tree.add_realized(serial("0x3e8", "s2"), ctx);  // hot-added ones: the caller knows them already
    CHECK(heard.size() == 2);
}

TEST_CASE("chardev set: a released chardev can be claimed again", "[hotplug][chardev]") {
    TempDir dir;
    EventLoop loop;
    ChardevConfig n;
    n.id = "n";
    n.backend = "null";
    ChardevSet set({n}, loop);
    CHECK_FALSE(set.in_use("n"));
    Chardev& first = set.claim("n");
    CHECK(set.in_use("n"));
    CHECK_THROWS_WITH(set.claim("n"), "Device 'n' is in use");
    set.release("n");
    CHECK_FALSE(set.in_use("n"));
    CHECK(&set.claim("n") == &first);
    CHECK_THROWS_WITH(set.claim("n"), "Device 'n' is in use");
    set.release("nope");  // unknown: nothing happens
}

namespace {
struct CountingDevice final : Device {
    using Device::Device;
    int pauses = 0, resumes = 0;
    void realize(DeviceContext&) override {}
    void pause() override { ++pauses; }
    void resume() override { ++resumes; }
};
} // namespace

TEST_CASE("device tree: a device added while the machine is paused is paused too", "[hotplug][model]") {
    FakeDeviceContext ctx;
    DeviceTree tree;
    auto counting = [](const char* id) { return std::make_unique<CountingDevice>(config_of("pci-testdev", id)); };
    auto& running = static_cast<CountingDevice&>(tree.add_realized(counting("a"), ctx));
    CHECK(running.pauses == 0);
    tree.pause_all();
    auto& added = static_cast<CountingDevice&>(tree.add_realized(counting("b"), ctx));
    CHECK(added.pauses == 1);
    tree.resume_all();
    CHECK(added.resumes == 1);
    auto& later = static_cast<CountingDevice&>(tree.add_realized(counting("c"), ctx));
    CHECK(later.pauses == 0);
}
