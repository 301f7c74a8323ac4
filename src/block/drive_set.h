#pragma once
// The machine's -drive images: each is opened when the device that uses it
// is realized, and the set answers the monitors' block queries for all of
// them (query-block, query-blockstats, info block).
#include "block/block_backend.h"
#include "block/block_info.h"
#include "block/drive_config.h"

#include <memory>
#include <string>
#include <vector>

namespace kestrel {

class DriveSet final : public BlockService {
public:
    explicit DriveSet(const std::vector<DriveConfig>& drives) : drives_(drives) {}

    // Opens drive `id` for the device at QOM path `qdev` (query-block's
    // "qdev"). Throws std::runtime_error "<-drive ...>: <reason>" for a
    // missing or locked image; std::logic_error for an unknown id (the
    // parser checked them). Null for a drive without medium (an empty CD).
    std::shared_ptr<BlockBackend> open(const std::string& id, const std::string& qdev);

    // Opens the drives no device took, as QEMU opens every -drive and
    // -blockdev at start: an unused if=none drive is a BlockBackend without
    // a device, an unused -blockdev node only a node. Throws as open().
    void open_unused();

    std::vector<BlockDeviceInfo> block_devices() const override;
    int commit(const std::string& device) override;

private:
    struct Open {
        const DriveConfig* drive;
        std::string qdev;
        std::string node_name, file_node_name;
        std::shared_ptr<BlockBackend> backend;
    };

    const std::vector<DriveConfig>& drives_;
    std::vector<Open> open_;
};

} // namespace kestrel
