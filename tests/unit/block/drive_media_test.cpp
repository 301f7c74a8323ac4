// DriveSet's removable media with a fake tray device: the order of QEMU's
// checks, DEVICE_TRAY_MOVED only when the tray moved, the locked tray's
// eject request, and a failed open leaving the drive as it was.
#include "block_test_util.h"

#include "block/drive_set.h"

using namespace kestrel;
using namespace kestrel::test;

namespace {

struct FakeTray final : RemovableMediumDevice {
    bool open = false, locked = false;
    std::vector<std::string> calls;
    std::shared_ptr<BlockBackend> medium;
    bool tray_open() const override { return open; }
    bool medium_locked() const override { return locked; }
    void eject_request(bool force) override {
        calls.push_back(force ? "eject-request force" : "eject-request");
        if (force) locked = false;
    }
    void change_media(bool load) override {
        calls.push_back(load ? "load" : "unload");
        open = !load;
    }
    void set_medium(std::shared_ptr<BlockBackend> m) override { medium = std::move(m); }
};

DriveConfig cdrom(const std::string& file) {
    DriveConfig d;
    d.location = "-drive file=" + file + ",media=cdrom";
    d.id = "ide1-cd0";
    d.interface = "ide";
    d.file = file;
    d.format = "raw";
    d.read_only = d.cdrom = true;
    return d;
}

struct Rig {
    TempDir dir;
    std::vector<DriveConfig> drives;
    std::unique_ptr<DriveSet> set;
    FakeTray tray;
    std::vector<std::string> events;

    Rig() {
        drives.push_back(cdrom(make_image(dir.file("a.iso"), 64 * 2048)));
        make_image(dir.file("b.iso"), 32 * 2048);
        set = std::make_unique<DriveSet>(drives);
        tray.medium = set->open("ide1-cd0", "/machine/unattached/device[9]");
        set->attach_removable("ide1-cd0", "/machine/unattached/device[9]", &tray);
        set->on_tray_moved([this](const std::string& device, const std::string& id, bool open) {
            events.push_back(device + " " + id + (open ? " open" : " closed"));
        });
    }
    MediumTarget by_name(std::string name = "ide1-cd0") { return {std::move(name), std::nullopt}; }
};

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const MediumError& e) {
        return std::string(e.device_not_found ? "[not found] " : "") + e.what();
    }
    return "";
}

} // namespace

TEST_CASE("media: names, and exactly one of device and id", "[block][media]") {
    Rig r;
    CHECK(error_of([&] { r.set->eject({}, false); }) == "Need exactly one of 'device' and 'id'");
    CHECK(error_of([&] { r.set->eject({"ide1-cd0", "x"}, false); }) == "Need exactly one of 'device' and 'id'");
    CHECK(error_of([&] { r.set->eject(r.by_name("ide0-cd0"), false); }) == "[not found] Device 'ide0-cd0' not found");
    CHECK(error_of([&] { r.set->remove_medium(""); }) == "[not found] Device '' not found");
    CHECK(error_of([&] { r.set->remove_medium("/machine/unattached/device[9]"); }) ==
          "Tray of device '/machine/unattached/device[9]' is not open");
    CHECK(r.events.empty());
}

TEST_CASE("media: a locked tray gets an eject request, force opens it", "[block][media]") {
    Rig r;
    r.tray.locked = true;
    CHECK(error_of([&] { r.set->eject(r.by_name(), false); }) ==
          "Device 'ide1-cd0' is locked and force was not specified, wait for tray to open and try again");
    CHECK(r.tray.calls == std::vector<std::string>{"eject-request"});
    CHECK(r.events.empty());
    CHECK(r.tray.medium);
    r.set->open_tray(r.by_name(), false);  // open-tray: the request is no error
    CHECK(r.events.empty());
    r.set->eject(r.by_name(), true);
    CHECK(r.tray.calls.back() == "unload");
    CHECK(r.events == std::vector<std::string>{"ide1-cd0 /machine/unattached/device[9] open"});
    CHECK_FALSE(r.tray.medium);
    CHECK_FALSE(r.set->block_devices()[0].inserted);
    r.set->eject(r.by_name(), false);  // open and empty: nothing moves
    CHECK(r.events.size() == 1);
}

TEST_CASE("media: change opens, swaps and closes; a failed open changes nothing", "[block][media]") {
    Rig r;
    CHECK(error_of([&] { r.set->change_medium(r.by_name(), r.dir.file("none.iso"), "raw", false, "retain"); })
              .starts_with("Could not open"));
    CHECK(error_of([&] { r.set->change_medium(r.by_name(), r.dir.file("b.iso"), "vmdk2", false, "retain"); }) ==
          "Unknown driver 'vmdk2'");
    CHECK(error_of([&] { r.set->change_medium(r.by_name(), "", "", false, "retain"); }) ==
          "The 'file' block driver requires a file name");
    CHECK(r.events.empty());
    CHECK(r.tray.calls.empty());
    r.set->change_medium(r.by_name(), r.dir.file("b.iso"), "raw", false, "retain");
    CHECK(r.events == std::vector<std::string>{"ide1-cd0 /machine/unattached/device[9] open",
                                               "ide1-cd0 /machine/unattached/device[9] closed"});
    REQUIRE(r.tray.medium);
    CHECK(r.tray.medium->size() == 32 * 2048);
    CHECK(r.tray.medium->read_only());
    BlockDeviceInfo b = r.set->block_devices()[0];
    CHECK(b.file == r.dir.file("b.iso"));
    CHECK((b.tray && !b.tray_open && b.inserted));
    r.tray.locked = true;  // a locked tray refuses the change and keeps its medium
    CHECK(error_of([&] { r.set->change_medium(r.by_name(), r.dir.file("a.iso"), "raw", false, "retain"); })
              .starts_with("Device 'ide1-cd0' is locked"));
    CHECK(r.set->block_devices()[0].file == r.dir.file("b.iso"));
}

TEST_CASE("media: a tray the guest moves reports it", "[block][media]") {
    Rig r;
    r.set->guest_moved_tray(&r.tray, true);
    FakeTray stranger;
    r.set->guest_moved_tray(&stranger, true);  // not a drive's: nothing
    CHECK(r.events == std::vector<std::string>{"ide1-cd0 /machine/unattached/device[9] open"});
}
