#pragma once
// blockdev-add on the running machine: the nodes QMP added so far (each a
// JSON object, in order) read as -blockdev reads them, with the same checks
// and texts; a file node a later format node names becomes its child.
#include "block/drive_config.h"

#include <string>
#include <vector>

namespace kestrel {

struct RuntimeBlockNodes {
    std::vector<DriveConfig> drives;      // the root nodes, as drives a device may name
    std::vector<std::string> node_names;  // every named node
};

// Throws ConfigError.
RuntimeBlockNodes runtime_block_nodes(const std::vector<std::string>& json_objects);

} // namespace kestrel
