// blockdev-add / blockdev-del on the running pc (BlockNodeHotplug). The
// nodes QMP added are read again as a whole on each change, as -blockdev
// reads them: a file node that a format node added later names becomes its
// child, so its own drive closes before the format node opens the image
// (kestrel's image locks would refuse a second open in the process).
#include "machine/pc_board.h"

#include "base/config_error.h"
#include "config/hotplug_blockdev.h"
#include "config/json_keys.h"

#include <algorithm>

namespace kestrel {

namespace {

bool has_drive(const std::vector<DriveConfig>& drives, const std::string& id) {
    return std::any_of(drives.begin(), drives.end(), [&](const DriveConfig& d) { return d.id == id; });
}

std::string node_name_of(const std::string& json_object) {
    for (const TypedKey& k : flatten_json_object(json_object))
        if (k.key == "node-name") return k.value;
    return "";
}

} // namespace

void PcBoard::apply_block_nodes(const std::vector<std::string>& nodes) {
    RuntimeBlockNodes now = [&] {
        try {
            return runtime_block_nodes(nodes);
        } catch (const ConfigError& e) {
            throw std::runtime_error(e.what());
        }
    }();
    for (const std::string& name : now.node_names) {
        bool startup = std::any_of(live_.drives.begin(), live_.drives.end(), [&](const DriveConfig& d) {
            return !has_drive(added_roots_, d.id) && (d.node_name == name || d.file_node_name == name);
        });
        if (startup) throw std::runtime_error("Duplicate nodes with node-name='" + name + "'");
        bool drive_name = std::any_of(live_.drives.begin(), live_.drives.end(),
                                      [&](const DriveConfig& d) { return !d.blockdev && d.id == name; });
        if (drive_name) throw std::runtime_error("node-name=" + name + " is conflicting with a device id");
    }
    std::vector<DriveConfig> closed;
    for (const DriveConfig& d : added_roots_) {
        if (has_drive(now.drives, d.id)) continue;
        if (!drives_.remove_node(d.id)) throw std::runtime_error("Node " + d.id + " is in use");
        closed.push_back(d);
    }
    std::vector<std::string> opened;
    try {
        for (const DriveConfig& d : now.drives) {
            if (has_drive(added_roots_, d.id)) continue;
            drives_.add_node(d);
            opened.push_back(d.id);
        }
    } catch (...) {
        for (const std::string& id : opened) drives_.remove_node(id);
        for (const DriveConfig& d : closed) drives_.add_node(d);  // as they were
        throw;
    }
    std::erase_if(live_.drives, [&](const DriveConfig& d) { return has_drive(added_roots_, d.id); });
    live_.drives.insert(live_.drives.end(), now.drives.begin(), now.drives.end());
    added_nodes_ = nodes;
    added_roots_ = std::move(now.drives);
    added_names_ = std::move(now.node_names);
}

void PcBoard::add_block_node(const std::string& json_object) {
    std::vector<std::string> nodes = added_nodes_;
    nodes.push_back(json_object);
    apply_block_nodes(nodes);
}

// QEMU's checks: a node with a device is in use; a child is held by its parent.
void PcBoard::delete_block_node(const std::string& node_name) {
    auto used_by_device = [&](const std::string& id) {
        return std::any_of(live_.devices.begin(), live_.devices.end(), [&](const DeviceConfig& d) {
            for (const PropertySpec* spec : d.props.specs())
                if (spec->type == PropType::Drive && d.props.str(spec->name) == id) return true;
            return false;
        });
    };
    if (std::find(added_names_.begin(), added_names_.end(), node_name) != added_names_.end()) {
        if (!has_drive(added_roots_, node_name)) throw std::runtime_error("Block device " + node_name + " is in use");
        if (used_by_device(node_name)) throw std::runtime_error("Node " + node_name + " is in use");
        std::vector<std::string> nodes = added_nodes_;
        std::erase_if(nodes, [&](const std::string& n) { return node_name_of(n) == node_name; });
        apply_block_nodes(nodes);
        return;
    }
    for (const DriveConfig& d : live_.drives) {
        if (!d.blockdev) continue;
        if (d.file_node_name == node_name) throw std::runtime_error("Block device " + node_name + " is in use");
        if (d.node_name != node_name) continue;
        if (used_by_device(d.id) || !drives_.remove_node(d.id)) throw std::runtime_error("Node " + node_name + " is in use");
        const std::string id = d.id;
        std::erase_if(live_.drives, [&](const DriveConfig& x) { return x.id == id; });
        return;
    }
    throw std::runtime_error("Failed to find node with node-name='" + node_name + "'");
}

} // namespace kestrel
