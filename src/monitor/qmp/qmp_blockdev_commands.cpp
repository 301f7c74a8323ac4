// QMP blockdev-add and blockdev-del: block nodes added while the machine
// runs, with the drivers -blockdev has (file, raw, qcow2). The node's
// options are read as -blockdev's JSON syntax reads them, with its errors.
#include "devices/device_hotplug.h"
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

namespace {

BlockNodeHotplug& block_nodes(VmControl& vm) {
    BlockNodeHotplug* nodes = vm.services().find<BlockNodeHotplug>();
    if (!nodes) throw MonitorError("blockdev-add is not available on this machine");
    return *nodes;
}

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
        with_node_errors([&] { block_nodes(vm).add_block_node(args.dump()); });
        return Json::object();
    }});
    table.add({"blockdev-del", "q_obj_blockdev-del-arg", "q_empty", [&vm](const Json& args) {
        with_node_errors([&] { block_nodes(vm).delete_block_node(args.at("node-name").get<std::string>()); });
        return Json::object();
    }});
}

} // namespace kestrel::qmp
