// fw_cfg's bootorder: QEMU's firmware device paths of the devices with a
// bootindex, lowest first, newline-separated and NUL-terminated.
#include "devices/device_types.h"
#include "machine/boot_order.h"
#include "tests/unit/devices/fake_device_context.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

std::unique_ptr<Device> make(std::string_view type, std::string bus = {},
                             std::vector<std::pair<std::string, std::string>> props = {}) {
    const DeviceType* t = find_device_type(type);
    DeviceConfig c{"", t, "", false, t->default_values(), std::move(bus)};
    for (const auto& [key, value] : props) c.props.set(key, value);
    return t->create(std::move(c));
}

std::string text(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

} // namespace

TEST_CASE("bootorder: IDE drives by bootindex in QEMU's device paths", "[machine][boot]") {
    FakeDeviceContext ctx;
    DeviceTree tree;
    tree.add(make("piix3-ide", {}, {{"addr", "1.1"}}), true);
    tree.add(make("ide-cd", "ide.0", {{"unit", "1"}, {"bootindex", "3"}}), false);
    tree.add(make("ide-cd", "ide.1", {{"unit", "0"}, {"bootindex", "1"}}), false);
    tree.add(make("ide-cd", "ide.0", {{"unit", "0"}}), false);  // no bootindex: not listed
    tree.realize_all(ctx);
    CHECK(boot_device_path(tree, *tree.devices()[1]) == "/pci@i0cf8/ide@1,1/drive@0/disk@1");
    const std::string want = "/pci@i0cf8/ide@1,1/drive@1/disk@0\n/pci@i0cf8/ide@1,1/drive@0/disk@1";
    CHECK(text(boot_order_file(tree, false)) == want + std::string(1, '\0'));
    CHECK(text(boot_order_file(tree, true)) == want + "\nHALT" + std::string(1, '\0'));
}

TEST_CASE("bootorder: a drive on a -device IDE controller, by that controller's slot and its bus number",
          "[machine][boot]") {
    FakeDeviceContext ctx;
    DeviceTree tree;
    tree.add(make("piix3-ide", {}, {{"addr", "1.1"}}), true);
    tree.add(make("piix4-ide", {}, {{"addr", "4"}}), false);
    tree.add(make("ide-cd", "ide.3", {{"unit", "1"}, {"bootindex", "1"}}), false);
    tree.realize_all(ctx);
    CHECK(boot_device_path(tree, *tree.devices()[2]) == "/pci@i0cf8/ide@4/drive@1/disk@1");
}

TEST_CASE("bootorder: empty without a bootindex, also with strict=on", "[machine][boot]") {
    FakeDeviceContext ctx;
    DeviceTree tree;
    tree.add(make("piix3-ide", {}, {{"addr", "1.1"}}), true);
    tree.add(make("ide-cd", "ide.1", {{"unit", "1"}}), false);
    tree.realize_all(ctx);
    CHECK(boot_order_file(tree, false).empty());
    CHECK(boot_order_file(tree, true).empty());
}
