// The device model: property parsing and texts as QEMU's, the device
// table, the qtree and the life cycle, and bus overlays.
#include "devices/device_tree.h"
#include "fake_device_context.h"

#include "base/config_error.h"

#include <catch2/catch.hpp>
#include <set>

using namespace kestrel;
using namespace kestrel::test;

namespace {

std::string set_error(PropertyValues& values, const char* name, const char* text) {
    try {
        values.set(name, text);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("property values parse as QEMU's keyval visitor does", "[model]") {
    static constexpr PropertySpec specs[] = {
        prop_uint(PropType::Uint16, "q", 65535), prop_bool("b", false), prop_str("s"),
        prop_uint(PropType::Uint32, "u", -1),   kPciAddrProperty,       kBootIndexProperty,
        {"z", PropType::Size},
    };
    PropertyValues v("t", {&specs[0], &specs[1], &specs[2], &specs[3], &specs[4], &specs[5], &specs[6]});
    CHECK(v.uint("q") == 65535);
    CHECK(v.uint("u") == 0xffffffff);
    CHECK_FALSE(v.has("s"));
    CHECK(v.str("s").empty());
    CHECK_FALSE(v.optional_int("bootindex"));
    CHECK(v.sint("addr") == -1);

    v.set("q", "0x10");
    CHECK(v.uint("q") == 16);
    CHECK(set_error(v, "q", "x") == "Parameter 'q' expects integer");
    CHECK(set_error(v, "q", "70000") == "Parameter 'q' expects uint16_t");
    CHECK(set_error(v, "q", "-1") == "Parameter 'q' expects uint16_t");
    CHECK(set_error(v, "q", "") == "Parameter 'q' expects integer");
    CHECK(set_error(v, "bootindex", "99999999999") == "Parameter 'bootindex' expects int32_t");
    v.set("bootindex", "-1");
    CHECK(v.optional_int("bootindex") == -1);
    CHECK(set_error(v, "b", "maybe") == "Parameter 'b' expects 'on' or 'off'");
    v.set("b", "on");
    CHECK(v.boolean("b"));
    CHECK(set_error(v, "addr", "3.8") == "Property 't.addr' doesn't take value '3.8'");
    v.set("addr", "1f.7");
    CHECK(v.sint("addr") == (0x1f << 3 | 7));
    CHECK(set_error(v, "nope", "1") == "Property 't.nope' not found");
    CHECK(set_error(v, "z", "1x") == "Parameter 'z' expects size");
    v.set("z", "4k");
    CHECK(v.uint("z") == 4096);

    CHECK(v.qtree_text(specs[0]) == "16 (0x10)");
    CHECK(v.qtree_text(specs[1]) == "true");
    CHECK(v.qtree_text(specs[2]) == "\"\"");
    CHECK(v.qtree_text(specs[4]) == "1f.7");
    CHECK(v.qtree_text(specs[6]) == "4096 (4 KiB)");
    CHECK_THROWS_AS(v.uint("b"), std::bad_variant_access);
    CHECK_THROWS_AS(v.uint("nope"), std::logic_error);
}

TEST_CASE("property help lines are QEMU's", "[model]") {
    CHECK(property_help_line(kPciAddrProperty) ==
          "  addr=<int32>           - Slot and optional function number, example: 06.0 or 06 (default: -1)");
    CHECK(property_help_line(kBootIndexProperty) == "  bootindex=<int32>");
    CHECK(property_help_line(prop_uint(PropType::Uint16, "num-queues", 65535)) ==
          "  num-queues=<uint16>    -  (default: 65535)");
    CHECK(property_help_line(prop_uint(PropType::Uint32, "index", -1)) ==
          "  index=<uint32>         -  (default: 4294967295)");
    CHECK(property_help_line(prop_bool("aer", false, "on/off")) == "  aer=<bool>             - on/off (default: false)");
    CHECK(property_help_line(prop_link(PropType::Iothread, "iothread")) == "  iothread=<link<iothread>>");
}

TEST_CASE("the device table: names, aliases, buses and properties", "[model]") {
    std::set<std::string_view> names;
    for (const DeviceType* t : device_types()) {
        INFO(t->name);
        CHECK(names.insert(t->name).second);
        CHECK(t->create != nullptr);
        CHECK(t->bus != BusKind::None);
        CHECK_FALSE(t->qom_parent.empty());
        std::set<std::string_view> props;
        for (const PropertySpec* p : t->all_properties()) CHECK(props.insert(p->name).second);
    }
    CHECK(find_device_type("virtio-blk") == find_device_type("virtio-blk-pci"));
    CHECK(find_device_type("e1000-82540em") == find_device_type("e1000"));
    CHECK(find_device_type("rtl8139") == nullptr);
    CHECK(find_device_type("isa-serial")->bus == BusKind::Isa);
}

TEST_CASE("bus overlays take the accesses that start inside them", "[model]") {
    Bus bus("io");
    auto wide = std::make_shared<RecordingDevice>();
    auto narrow = std::make_shared<RecordingDevice>();
    REQUIRE(bus.insert(0xcf8, 4, wide, "pci-conf-idx"));
    REQUIRE(bus.insert_overlay(0xcf9, 1, narrow, "piix3-reset-control"));
    CHECK_FALSE(bus.insert_overlay(0xcf9, 2, narrow, "again"));
    uint8_t b[4] = {};
    bus.write(0xcf8, {b, 4});
    CHECK(wide->accesses == 1);
    bus.write(0xcf9, {b, 1});
    CHECK(narrow->accesses == 1);
    CHECK(narrow->last_offset == 0);
    auto maps = bus.mappings();
    REQUIRE(maps.size() == 2);
    CHECK(maps[1].name == "piix3-reset-control");
    CHECK(maps[1].priority == 1);
    CHECK_THROWS_WITH(bus.insert_or_throw(0xcf8, 8, wide, "x"), "I/O ports 0xcf8-0xcff are already in use");
    CHECK(bus.remove(0xcf9));
    bus.write(0xcf9, {b, 1});
    CHECK(wide->accesses == 2);
}

TEST_CASE("isa-serial: index, iobase and irq as QEMU derives them", "[model][serial]") {
    const DeviceType& type = *find_device_type("isa-serial");
    struct Counts final : DeviceCheckContext {
        unsigned before = 0;
        const DriveConfig* find_drive(std::string_view) const override { return nullptr; }
        unsigned count_before(std::string_view) const override { return before; }
        std::string find_data_file(const std::string&) const override { return {}; }
    } counts;
    DeviceConfig d{"", &type, "", false, type.default_values()};
    counts.before = 1;
    type.complete(d, counts);
    CHECK(d.props.uint("index") == 1);
    CHECK(d.props.uint("iobase") == 0x2f8);
    CHECK(d.props.uint("irq") == 3);
    DeviceConfig e{"", &type, "", false, type.default_values()};
    e.props.set("index", "4");
    CHECK_THROWS_WITH(type.complete(e, counts), "Max. supported number of ISA serial ports is 4.");
}

TEST_CASE("a device tree: QOM paths, the qtree and the life cycle", "[model]") {
    FakeDeviceContext ctx;
    DeviceTree tree(2);
    auto make = [&](std::string_view type, std::string id) {
        const DeviceType* t = find_device_type(type);
        DeviceConfig c{"", t, std::move(id), false, t->default_values()};
        if (type == "isa-serial") {
            c.props.set("iobase", "0x3f8");
            c.props.set("irq", "4");
            c.props.set("index", "0");
        }
        return t->create(std::move(c));
    };
    tree.add(make("i8042", ""), true);
    tree.add(make("isa-serial", "com1"), false);
    tree.add(make("mc146818rtc", ""), false);
    tree.realize_all(ctx);
    CHECK(tree.devices()[0]->qom_path() == "/machine/unattached/device[3]");  // vCPUs 0, 1 and the kvmvapic first
    CHECK(vcpu_qom_path(0) == "/machine/unattached/device[0]");
    CHECK(vcpu_qom_path(1) == "/machine/unattached/device[2]");
    CHECK(tree.devices()[1]->qom_path() == "/machine/peripheral/com1");
    CHECK(tree.devices()[2]->qom_path() == "/machine/peripheral-anon/device[0]");
    CHECK(tree.find_by_id("com1") == tree.devices()[1].get());
    CHECK(ctx.chardev_ids.empty());  // no chardev= given

    QtreeNode::Bus root = tree.qtree();
    CHECK(root.name == "main-system-bus");
    CHECK(root.devices.empty());  // no ISA bridge in this tree: ISA devices hang nowhere

    // The UART is on the bus and reset with the tree.
    ctx.out(0x3f8 + 7, 0x5a, 1);  // scratch register
    CHECK(ctx.in(0x3f8 + 7, 1) == 0x5a);
    tree.reset_all();
    CHECK(ctx.in(0x3f8 + 7, 1) == 0);
    QtreeNode node;
    tree.devices()[1]->describe(node);
    CHECK(node.type == "isa-serial");
    CHECK(node.id == "com1");
    CHECK(node.properties == std::vector<std::pair<std::string, std::string>>{
                                 {"index", "0 (0x0)"}, {"iobase", "1016 (0x3f8)"}, {"irq", "4 (0x4)"}});
}

TEST_CASE("a realize error names the option that asked for the device", "[model]") {
    FakeDeviceContext ctx;
    DeviceTree tree;
    for (const char* location : {"-device isa-serial,id=a", "-device isa-serial,id=b"}) {
        const DeviceType* t = find_device_type("isa-serial");
        DeviceConfig c{location, t, "", false, t->default_values()};
        c.props.set("iobase", "0x3f8");
        c.props.set("irq", "4");
        tree.add(t->create(std::move(c)), false);
    }
    CHECK_THROWS_WITH(tree.realize_all(ctx), "-device isa-serial,id=b: I/O ports 0x3f8-0x3ff are already in use");
}

// Hot plug: a device added to a running tree is realized at once; one
// whose realize fails leaves nothing (its anonymous number is not reused,
// as in QEMU); a removed device leaves the tree and its lookups.
TEST_CASE("a device tree: hot-added and removed devices", "[model]") {
    FakeDeviceContext ctx;
    DeviceTree tree;
    auto serial = [&](const char* port, std::string id) {
        const DeviceType* t = find_device_type("isa-serial");
        DeviceConfig c{"", t, std::move(id), false, t->default_values()};
        c.props.set("iobase", port);
        c.props.set("irq", "4");
        return t->create(std::move(c));
    };
    tree.add(serial("0x3f8", ""), false);
    tree.realize_all(ctx);
    CHECK_THROWS_WITH(tree.add_realized(serial("0x3f8", ""), ctx), "I/O ports 0x3f8-0x3ff are already in use");
    CHECK(tree.devices().size() == 1);
    Device& added = tree.add_realized(serial("0x2f8", ""), ctx);
    CHECK(added.qom_path() == "/machine/peripheral-anon/device[2]");
    Device& named = tree.add_realized(serial("0x3e8", "hot"), ctx);
    CHECK(tree.find_by_id("hot") == &named);
    ctx.out(0x2f8 + 7, 0x5a, 1);
    CHECK(ctx.in(0x2f8 + 7, 1) == 0x5a);  // realized: on the bus

    std::unique_ptr<Device> gone = tree.remove(named);
    CHECK(gone.get() == &named);
    CHECK(tree.find_by_id("hot") == nullptr);
    CHECK(tree.find_by_path("/machine/peripheral/hot") == nullptr);
    CHECK(tree.remove(named) == nullptr);  // not there any more
    CHECK(tree.devices().size() == 2);
    tree.reset_all();                      // the rest still cycles
    CHECK(ctx.in(0x2f8 + 7, 1) == 0);
}
