// query-block and query-blockstats: replies compared byte for byte with
// what qemu-system-x86_64 7.2 -qmp stdio printed for the disks of
// ../hmp/block_fake_vm.h.
#include "../hmp/block_fake_vm.h"

#include "monitor/qmp/qmp_commands.h"
#include "monitor/qmp/qmp_event_hub.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::qmp;
using namespace kestrel::block_test;

namespace {

struct BlockQmp {
    BlockFakeVm vm;
    QmpEventHub hub;
    QmpServices services{vm, hub, [](const std::string&, std::optional<unsigned>) { return std::string(); }};
    QmpCommandTable table{services};

    std::string run(const std::string& name, const Json& args = Json::object()) {
        const QmpCommand* cmd = table.find(name);
        REQUIRE(cmd);
        table.schema().check_arguments(cmd->arg_type, args);
        return to_qemu_json(cmd->run(args));
    }
};

const std::string kQemuQueryBlock =
    R"([{"io-status": "ok", "device": "virtio0", "locked": false, "removable": false, "inserted": {"iop)"
    R"(s_rd": 0, "detect_zeroes": "off", "image": {"virtual-size": 67108864, "filename": "/tmp/dx.img",)"
    R"( "format": "raw", "actual-size": 0, "dirty-flag": false}, "iops_wr": 0, "ro": false, "node-name")"
    R"(: "#block166", "backing_file_depth": 0, "drv": "raw", "iops": 0, "bps_wr": 0, "write_threshold":)"
    R"( 0, "encrypted": false, "bps": 0, "bps_rd": 0, "cache": {"no-flush": false, "direct": false, "wr)"
    R"(iteback": true}, "file": "/tmp/dx.img"}, "qdev": "/machine/peripheral-anon/device[0]/virtio-back)"
    R"(end", "type": "unknown"}, {"io-status": "ok", "device": "d2", "locked": false, "removable": fals)"
    R"(e, "inserted": {"iops_rd": 0, "detect_zeroes": "off", "image": {"virtual-size": 33554432, "filen)"
    R"(ame": "/tmp/dy.img", "format": "raw", "actual-size": 0, "dirty-flag": false}, "iops_wr": 0, "ro")"
    R"(: true, "node-name": "#block351", "backing_file_depth": 0, "drv": "raw", "iops": 0, "bps_wr": 0,)"
    R"( "write_threshold": 0, "encrypted": false, "bps": 0, "bps_rd": 0, "cache": {"no-flush": false, ")"
    R"(direct": true, "writeback": true}, "file": "/tmp/dy.img"}, "qdev": "/machine/peripheral/blk2/vir)"
    R"(tio-backend", "type": "unknown"}])";

const std::string kQemuQueryBlockstats =
    R"([{"device": "virtio0", "parent": {"stats": {"unmap_operations": 0, "unmap_merged": 0, "flush_tot)"
    R"(al_time_ns": 0, "wr_highest_offset": 0, "wr_total_time_ns": 0, "failed_wr_operations": 0, "faile)"
    R"(d_rd_operations": 0, "wr_merged": 0, "wr_bytes": 0, "timed_stats": [], "failed_unmap_operations")"
    R"(: 0, "failed_flush_operations": 0, "account_invalid": false, "rd_total_time_ns": 0, "invalid_unm)"
    R"(ap_operations": 0, "flush_operations": 0, "wr_operations": 0, "unmap_bytes": 0, "rd_merged": 0, )"
    R"("rd_bytes": 0, "unmap_total_time_ns": 0, "invalid_flush_operations": 0, "account_failed": false,)"
    R"( "rd_operations": 0, "invalid_wr_operations": 0, "invalid_rd_operations": 0}, "node-name": "#blo)"
    R"(ck012", "driver-specific": {"discard-bytes-ok": 0, "discard-nb-ok": 0, "driver": "file", "discar)"
    R"(d-nb-failed": 0}}, "stats": {"unmap_operations": 0, "unmap_merged": 0, "flush_total_time_ns": 0,)"
    R"( "wr_highest_offset": 0, "wr_total_time_ns": 0, "failed_wr_operations": 0, "failed_rd_operations)"
    R"(": 0, "wr_merged": 0, "wr_bytes": 0, "timed_stats": [], "failed_unmap_operations": 0, "failed_fl)"
    R"(ush_operations": 0, "account_invalid": true, "rd_total_time_ns": 0, "invalid_unmap_operations": )"
    R"(0, "flush_operations": 0, "wr_operations": 0, "unmap_bytes": 0, "rd_merged": 0, "rd_bytes": 0, ")"
    R"(unmap_total_time_ns": 0, "invalid_flush_operations": 0, "account_failed": true, "rd_operations":)"
    R"( 0, "invalid_wr_operations": 0, "invalid_rd_operations": 0}, "node-name": "#block166", "qdev": ")"
    R"(/machine/peripheral-anon/device[0]/virtio-backend"}, {"device": "d2", "parent": {"stats": {"unma)"
    R"(p_operations": 0, "unmap_merged": 0, "flush_total_time_ns": 0, "wr_highest_offset": 0, "wr_total)"
    R"(_time_ns": 0, "failed_wr_operations": 0, "failed_rd_operations": 0, "wr_merged": 0, "wr_bytes": )"
    R"(0, "timed_stats": [], "failed_unmap_operations": 0, "failed_flush_operations": 0, "account_inval)"
    R"(id": false, "rd_total_time_ns": 0, "invalid_unmap_operations": 0, "flush_operations": 0, "wr_ope)"
    R"(rations": 0, "unmap_bytes": 0, "rd_merged": 0, "rd_bytes": 0, "unmap_total_time_ns": 0, "invalid)"
    R"(_flush_operations": 0, "account_failed": false, "rd_operations": 0, "invalid_wr_operations": 0, )"
    R"("invalid_rd_operations": 0}, "node-name": "#block277", "driver-specific": {"discard-bytes-ok": 0)"
    R"(, "discard-nb-ok": 0, "driver": "file", "discard-nb-failed": 0}}, "stats": {"unmap_operations": )"
    R"(0, "unmap_merged": 0, "flush_total_time_ns": 0, "wr_highest_offset": 0, "wr_total_time_ns": 0, ")"
    R"(failed_wr_operations": 0, "failed_rd_operations": 0, "wr_merged": 0, "wr_bytes": 0, "timed_stats)"
    R"(": [], "failed_unmap_operations": 0, "failed_flush_operations": 0, "account_invalid": true, "rd_)"
    R"(total_time_ns": 0, "invalid_unmap_operations": 0, "flush_operations": 0, "wr_operations": 0, "un)"
    R"(map_bytes": 0, "rd_merged": 0, "rd_bytes": 0, "unmap_total_time_ns": 0, "invalid_flush_operation)"
    R"(s": 0, "account_failed": true, "rd_operations": 0, "invalid_wr_operations": 0, "invalid_rd_opera)"
    R"(tions": 0}, "node-name": "#block351", "qdev": "/machine/peripheral/blk2/virtio-backend"}])";

} // namespace

TEST_CASE("query-block as QEMU prints it", "[drive][qmp]") {
    BlockQmp q;
    CHECK(q.run("query-block") == "[]");
    q.vm.disks = {qemu_virtio0("#block166"), qemu_d2("#block351")};
    CHECK(q.run("query-block") == kQemuQueryBlock);
}

TEST_CASE("query-block: a drive without a device is removable, without io-status", "[drive][qmp]") {
    BlockQmp q;
    BlockDeviceInfo b = qemu_d2();
    b.device = "none0";
    b.qdev.clear();
    q.vm.disks = {b};
    Json reply = Json::parse(q.run("query-block"));
    CHECK(reply[0]["removable"] == true);
    CHECK(reply[0]["locked"] == false);
    CHECK_FALSE(reply[0].contains("qdev"));
    CHECK_FALSE(reply[0].contains("io-status"));
    CHECK_FALSE(reply[0].contains("tray_open"));
}

TEST_CASE("query-blockstats as QEMU prints it", "[drive][qmp]") {
    BlockQmp q;
    CHECK(q.run("query-blockstats") == "[]");
    q.vm.disks = {qemu_virtio0("#block166", "#block012"), qemu_d2("#block351", "#block277")};
    CHECK(q.run("query-blockstats") == kQemuQueryBlockstats);
    CHECK(q.run("query-blockstats", Json{{"query-nodes", false}}) == kQemuQueryBlockstats);
}

TEST_CASE("query-blockstats counters, idle time and the file node", "[drive][qmp]") {
    BlockQmp q;
    BlockDeviceInfo b = qemu_virtio0();
    b.rd_bytes = 8192, b.wr_bytes = 4096, b.rd_operations = 2, b.wr_operations = 1;
    b.flush_operations = 5, b.unmap_operations = 6, b.unmap_bytes = 1 << 20;
    b.failed_rd_operations = 7, b.failed_wr_operations = 8, b.failed_flush_operations = 9;
    b.rd_total_time_ns = 100, b.wr_total_time_ns = 200, b.flush_total_time_ns = 300;
    b.wr_highest_offset = 65536, b.idle_time_ns = 42;
    b.discard_nb_ok = 3, b.discard_bytes_ok = 12288;
    b.file_driver = "host_device";
    q.vm.disks = {b};
    Json s = Json::parse(q.run("query-blockstats"))[0];
    CHECK(s["device"] == "virtio0");
    CHECK(s["stats"]["rd_bytes"] == 8192);
    CHECK(s["stats"]["wr_bytes"] == 4096);
    CHECK(s["stats"]["unmap_bytes"] == 1 << 20);
    CHECK(s["stats"]["unmap_operations"] == 6);
    CHECK(s["stats"]["flush_operations"] == 5);
    CHECK(s["stats"]["failed_flush_operations"] == 9);
    CHECK(s["stats"]["flush_total_time_ns"] == 300);
    CHECK(s["stats"]["idle_time_ns"] == 42);
    CHECK(s["stats"]["wr_highest_offset"] == 65536);
    CHECK(s["stats"]["account_failed"] == true);
    // The file node counts nothing but its highest write.
    CHECK(s["parent"]["stats"]["rd_bytes"] == 0);
    CHECK(s["parent"]["stats"]["wr_highest_offset"] == 65536);
    CHECK_FALSE(s["parent"]["stats"].contains("idle_time_ns"));
    CHECK(nlohmann::json(s["parent"]["driver-specific"]) ==
          nlohmann::json{{"driver", "host_device"}, {"discard-nb-ok", 3}, {"discard-nb-failed", 0},
                         {"discard-bytes-ok", 12288}});
    std::string text = q.run("query-blockstats");
    CHECK(text.find(R"("idle_time_ns": 42)") != std::string::npos);
}

TEST_CASE("query-blockstats query-nodes lists the nodes, no devices", "[drive][qmp]") {
    BlockQmp q;
    BlockDeviceInfo b = qemu_virtio0("#block121", "#block041");
    b.rd_bytes = 512;
    q.vm.disks = {b};
    Json list = Json::parse(q.run("query-blockstats", Json{{"query-nodes", true}}));
    REQUIRE(list.size() == 2);
    CHECK(list[0]["node-name"] == "#block041");
    CHECK(list[0]["driver-specific"]["driver"] == "file");
    CHECK_FALSE(list[0].contains("device"));
    CHECK(list[1]["node-name"] == "#block121");
    CHECK(list[1]["parent"]["node-name"] == "#block041");
    CHECK(list[1]["stats"]["rd_bytes"] == 0);
    CHECK_FALSE(list[1].contains("qdev"));
    CHECK_THROWS_WITH(q.run("query-blockstats", Json{{"query-nodes", 1}}),
                      "Invalid parameter type for 'query-nodes', expected: boolean");
}

TEST_CASE("query-block and query-blockstats are in the schema", "[drive][qmp]") {
    BlockQmp q;
    CHECK(q.table.find("query-block")->ret_type == "[BlockInfo]");
    Json schema = q.table.introspect();
    bool found = false;
    for (const Json& e : schema) {
        if (e["name"] == "BlockDeviceStats") {
            found = true;
            CHECK(e["members"][0]["name"] == "rd_bytes");
            CHECK(e["members"][2]["name"] == "unmap_bytes");
        }
    }
    CHECK(found);
}
