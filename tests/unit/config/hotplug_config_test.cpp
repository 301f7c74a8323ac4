// device_add's and blockdev-add's parsing against a running machine's
// configuration: placement on pci.0 around the live devices, QEMU's
// errors, default MACs that skip the ones in use, and blockdev-add's
// nodes read together (a file node becomes the next format node's child).
#include "config/hotplug_blockdev.h"
#include "config/hotplug_device.h"
#include "parse_helpers.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

std::vector<qopts::OptPair> opts(std::initializer_list<std::pair<const char*, const char*>> kv) {
    std::vector<qopts::OptPair> out;
    for (auto [k, v] : kv) out.push_back({k, v});
    return out;
}

std::string error_of(const Config& live, std::initializer_list<std::pair<const char*, const char*>> kv) {
    try {
        make_hotplug_device(live, opts(kv));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("device_add: the first free slot, addr=, and QEMU's errors", "[config][hotplug]") {
    Config live = parse_ok({"-nodefaults", "-netdev", "user,id=n0", "-netdev", "user,id=n1",
                            "-device", "virtio-net-pci,netdev=n0,id=nic0",
                            "-drive", "if=none,id=d0,file=/nonexistent.img,format=raw"});
    DeviceConfig blk = make_hotplug_device(live, opts({{"driver", "virtio-blk-pci"}, {"drive", "d0"}, {"id", "vd"}}));
    CHECK(blk.pci_slot() == 3);  // 0, 1: chipset; 2: nic0
    live.devices.push_back(blk);

    DeviceConfig nic = make_hotplug_device(live, opts({{"driver", "e1000"}, {"netdev", "n1"}, {"addr", "0x1f"}}));
    CHECK(nic.pci_slot() == 31);
    CHECK(nic.props.str("mac") == "52:54:00:12:34:57");  // nic0 has ...:56

    CHECK(error_of(live, {{"driver", "virtio-blk-pci"}, {"drive", "d0"}, {"id", "vd"}}) ==
          "Duplicate device ID 'vd'");
    try {  // an id a hot-added vCPU holds
        make_hotplug_device(live, opts({{"driver", "virtio-rng-pci"}, {"id", "vcpu1"}}), {"vcpu1"});
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == "Duplicate device ID 'vcpu1'");
    }
    CHECK(error_of(live, {{"driver", "virtio-blk-pci"}, {"drive", "d0"}, {"id", "vd2"}}) ==
          "Drive 'd0' is already in use by another device");
    CHECK(error_of(live, {{"driver", "e1000"}, {"netdev", "n0"}}) ==
          "Property 'e1000.netdev' can't take value 'n0', it's in use");
    CHECK(error_of(live, {{"driver", "e1000"}, {"netdev", "n1"}, {"addr", "3"}}) ==
          "PCI: slot 3 function 0 not available for e1000, in use by virtio-blk-pci,id=vd");
    CHECK(error_of(live, {{"driver", "e1000"}, {"netdev", "n1"}, {"addr", "1.3"}}) ==
          "PCI: slot 1 function 3 not available for e1000, in use by PIIX4_PM,id=(null)");
    CHECK(error_of(live, {{"driver", "e1000"}, {"netdev", "nope"}}) == "Property 'e1000.netdev' can't find value 'nope'");
    CHECK(error_of(live, {{"driver", "e1000"}, {"id", "1bad"}}) == "Parameter 'id' expects an identifier");
    CHECK(error_of(live, {{"driver", "nosuch"}}) == "'nosuch' is not a valid device model name");
    CHECK(error_of(live, {{"driver", "virtio-blk-pci"}, {"id", "x"}}) == "drive property not set");
    CHECK(error_of(live, {{"driver", "e1000"}, {"bogus", "1"}}) == "Property 'e1000.bogus' not found");
}

TEST_CASE("blockdev-add: nodes read together; errors as -blockdev's", "[config][hotplug]") {
    RuntimeBlockNodes one = runtime_block_nodes({R"({"driver":"file","filename":"/x.img","node-name":"s"})"});
    REQUIRE(one.drives.size() == 1);
    CHECK(one.drives[0].protocol_only);
    RuntimeBlockNodes two = runtime_block_nodes({R"({"driver":"file","filename":"/x.img","node-name":"s"})",
                                                 R"({"driver":"qcow2","file":"s","node-name":"f"})"});
    REQUIRE(two.drives.size() == 1);  // the file node is the format node's child now
    CHECK(two.drives[0].id == "f");
    CHECK(two.drives[0].format == "qcow2");
    CHECK(two.drives[0].file_node_name == "s");
    CHECK(two.node_names == std::vector<std::string>{"s", "f"});
    auto error = [](std::vector<std::string> nodes) {
        try {
            runtime_block_nodes(nodes);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(error({R"({"driver":"file","filename":"/x.img","node-name":"s"})",
                 R"({"driver":"file","filename":"/y.img","node-name":"s"})"}) == "Duplicate nodes with node-name='s'");
    CHECK(error({R"({"driver":"raw","file":"nope","node-name":"f"})"}) ==
          "Cannot find device='nope' nor node-name='nope'");
    CHECK(error({R"({"driver":"file","filename":"/x.img"})"}) == "'node-name' must be specified for the root node");
    CHECK(error({R"({"driver":"nbd","node-name":"n"})"}).find("nbd") != std::string::npos);
}
