#pragma once
// The machine's -drive images: each is opened when the device that uses it
// is realized, and the set answers the monitors' block queries for all of
// them (query-block, query-blockstats, info block).
#include "block/block_backend.h"
#include "block/block_info.h"
#include "block/drive_config.h"
#include "block/removable_medium.h"

#include <deque>
#include <list>
#include <memory>
#include <string>
#include <vector>

namespace kestrel {

// Opens a drive's image as -drive does (format, cache, snapshot, locking).
std::shared_ptr<BlockBackend> open_drive(const DriveConfig& drive);

class DriveSet final : public BlockService, public MediumService {
public:
    explicit DriveSet(const std::vector<DriveConfig>& drives) : drives_(drives) {}

    // Opens drive `id` for the device at QOM path `qdev` (query-block's
    // "qdev"). Throws std::runtime_error "<-drive ...>: <reason>" for a
    // missing or locked image; std::logic_error for an unknown id (the
    // parser checked them). Null for a drive without medium (an empty CD).
    std::shared_ptr<BlockBackend> open(const std::string& id, const std::string& qdev);

    // The device at `qdev` went (hot unplug): a -blockdev node stays, with
    // no device; a -drive goes with its device, as QEMU deletes it. Returns
    // the id of a drive that went ("" if none).
    std::string release(const std::string& qdev);

    // blockdev-add: a root node added while the machine runs, opened now
    // (throws as open()); blockdev-del or a node that became another's
    // child: closed. remove_node is false while a device uses it.
    void add_node(const DriveConfig& drive);
    bool remove_node(const std::string& id);

    // A drive without a -drive for the device at `qdev` (an ide-cd without
    // drive=): QEMU's anonymous, empty BlockBackend, which takes media.
    void open_anonymous(const std::string& qdev);

    // Opens the drives no device took, as QEMU opens every -drive and
    // -blockdev at start: an unused if=none drive is a BlockBackend without
    // a device, an unused -blockdev node only a node. Throws as open().
    void open_unused();

    std::vector<BlockDeviceInfo> block_devices() const override;
    int commit(const std::string& device) override;

    // Removable media (drive_media.cpp).
    void attach_removable(const std::string& id, const std::string& qdev, RemovableMediumDevice* device) override;
    void attach_anonymous(const std::string& qdev, RemovableMediumDevice* device) override {
        open_anonymous(qdev);
        open_.back().removable = device;
    }
    void on_tray_moved(TrayMovedHandler handler) override { tray_moved_ = std::move(handler); }
    void guest_moved_tray(const RemovableMediumDevice* device, bool open) override;
    void eject(const MediumTarget& target, bool force) override;
    void open_tray(const MediumTarget& target, bool force) override;
    void close_tray(const MediumTarget& target) override;
    void remove_medium(const std::string& id) override;
    void insert_medium(const std::string& id, const std::string& node_name) override;
    void change_medium(const MediumTarget& target, const std::string& filename, const std::string& format,
                       bool force, const std::string& read_only_mode) override;

private:
    struct Open {
        const DriveConfig* drive;
        std::string qdev;
        std::string node_name, file_node_name;
        std::shared_ptr<BlockBackend> backend;
        // The medium now (a change replaces the -drive's), and its device
        // when that has a tray.
        std::string file;
        bool read_only = false, protocol_only = false;
        RemovableMediumDevice* removable = nullptr;
        bool anonymous = false;
        // A -blockdev node inserted into another drive (listed there), and
        // in that drive the node's entry its medium came from (-1: none).
        bool lent = false;
        int node_source = -1;
    };
    enum class TrayResult { Done, NotRemovable, NoTray, EjectRequested };

    Open& find(const MediumTarget& target);
    TrayResult do_open_tray(Open& o, const std::string& name, bool force, std::string& error);
    void move_tray(Open& o, bool load);
    void emit_tray_moved(const Open& o, bool open);
    void remove_medium(Open& o, const std::string& name);
    void insert_medium(Open& o, std::shared_ptr<BlockBackend> medium, std::string file, bool read_only);
    void check_insertable(const Open& o) const;
    std::pair<std::string, std::string> next_node_names();

    const std::vector<DriveConfig>& drives_;
    std::vector<Open> open_;
    std::deque<DriveConfig> anonymous_;  // the configs of open_anonymous's drives
    std::list<DriveConfig> added_;       // blockdev-add's open root nodes (a list: entries point in)
    const DriveConfig* find_config(const std::string& id) const;
    unsigned created(const Open& o) const;
    unsigned images_opened_ = 0;
    TrayMovedHandler tray_moved_;
};

} // namespace kestrel
