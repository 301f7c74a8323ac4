// QMP blockdev-add and blockdev-del: block nodes added while the machine
// runs, with the drivers -blockdev has (file, raw, qcow2). The node's
// options are read as -blockdev's JSON syntax reads them, with its errors.
#include "devices/device_hotplug.h"
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

namespace {

// The none machine has no block layer: no node exists, none can be added.
BlockNodeHotplug* block_nodes(VmControl& vm) { return vm.services().find<BlockNodeHotplug>(); }

template <typename Fn> void with_node_errors(Fn&& fn) {
    try {
        fn();
    } catch (const MonitorError&) {
        throw;
    } catch (const std::runtime_error& e) {
        throw MonitorError(e.what());
    }
}

} // namespace

void add_blockdev_commands(QmpCommandTable& table, Schema& schema, QmpServices& services) {
    schema.add_enum("BlockdevDriver", {"file", "qcow2", "raw"});
    schema.add_object("BlockdevOptions", {{"driver", "BlockdevDriver"}, {"node-name", "str", true},
                                          {"discard", "str", true}, {"read-only", "bool", true},
                                          {"auto-read-only", "bool", true}, {"force-share", "bool", true},
                                          {"detect-zeroes", "str", true}});
    schema.allow_extra_members("BlockdevOptions");  // each driver's own members
    schema.add_object("q_obj_blockdev-del-arg", {{"node-name", "str"}});
    VmControl& vm = services.vm;
    table.add({"blockdev-add", "BlockdevOptions", "q_empty", [&vm](const Json& args) {
        BlockNodeHotplug* nodes = block_nodes(vm);
        if (!nodes) throw MonitorError("blockdev-add on machine 'none' is not supported by kestrel yet");
        with_node_errors([&] { nodes->add_block_node(args.dump()); });
        return Json::object();
    }});
    table.add({"blockdev-del", "q_obj_blockdev-del-arg", "q_empty", [&vm](const Json& args) {
        const std::string name = args.at("node-name").get<std::string>();
        BlockNodeHotplug* nodes = block_nodes(vm);
        if (!nodes) throw MonitorError("Failed to find node with node-name='" + name + "'");
        with_node_errors([&] { nodes->delete_block_node(name); });
        return Json::object();
    }});
}

} // namespace kestrel::qmp
