// DriveSet with -blockdev drives: node names, the open-at-start of unused
// nodes, and backing=NODE checked against the chain the image names.
#include "block_test_util.h"

#include "block/drive_set.h"
#include "block/qcow2/qcow2_create.h"

using namespace kestrel;
using namespace kestrel::test;

namespace {

std::string make_qcow2(const std::string& path, const std::string& backing = "", const std::string& fmt = "") {
    Qcow2CreateOptions o;
    o.size = 1 << 20;
    o.backing_file = backing;
    o.backing_format = fmt;
    return make_qcow2_image(path, o);
}

DriveConfig blockdev(const std::string& node, const std::string& file, const std::string& format) {
    DriveConfig d;
    d.location = "-blockdev node-name=" + node;
    d.id = d.node_name = node;
    d.file_node_name = node + "-storage";
    d.blockdev = true;
    d.interface = "none";
    d.file = file;
    d.format = format;
    return d;
}

} // namespace

TEST_CASE("-blockdev drives: node names, no device name, unused nodes opened", "[block][blockdev]") {
    TempDir dir;
    std::vector<DriveConfig> drives{blockdev("n1", make_qcow2(dir.file("a.qcow2")), "qcow2"),
                                    blockdev("n2", make_image(dir.file("b.img"), 1 << 20), "raw")};
    DriveSet set(drives);
    set.open("n1", "/machine/peripheral/vd0/virtio-backend");
    set.open_unused();
    std::vector<BlockDeviceInfo> info = set.block_devices();
    REQUIRE(info.size() == 2);
    CHECK(info[0].device.empty());
    CHECK(info[0].node_name == "n1");
    CHECK(info[0].file_node_name == "n1-storage");
    CHECK(info[0].has_backend);
    CHECK(info[1].node_name == "n2");
    CHECK_FALSE(info[1].has_backend);  // a node no device uses: not in query-block
    CHECK(info[0].created == 0);  // creation order: newest last
    CHECK(info[1].created == 1);
}

TEST_CASE("-blockdev backing=NODE must be the image's own backing file", "[block][blockdev]") {
    TempDir dir;
    std::string base = make_image(dir.file("base.img"), 1 << 20);
    std::string other = make_image(dir.file("other.img"), 1 << 20);
    std::string top = make_qcow2(dir.file("top.qcow2"), "base.img", "raw");
    DriveConfig good = blockdev("top", top, "qcow2");
    good.expected_backing_file = base;
    good.expected_backing_format = "raw";
    DriveConfig wrong_file = good, wrong_format = good;
    wrong_file.expected_backing_file = other;
    wrong_format.expected_backing_format = "qcow2";
    {
        std::vector<DriveConfig> drives{good};
        DriveSet set(drives);
        CHECK(set.open("top", "").get() != nullptr);
    }
    auto open_error = [](const DriveConfig& d) {
        std::vector<DriveConfig> one{d};
        try {
            DriveSet(one).open("top", "");
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(open_error(wrong_file) == "-blockdev node-name=top: the image's backing file is '" + base +
                                        "', not the backing node's '" + other +
                                        "' (kestrel opens the chain the image names)");
    CHECK(open_error(wrong_format) == "-blockdev node-name=top: the image's backing format is 'raw', not the "
                                          "backing node's 'qcow2'");
    CHECK(open_error(good).empty());  // the failed opens released their locks
}
