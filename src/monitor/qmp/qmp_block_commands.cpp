// query-block and query-blockstats from the machine's BlockService, with
// QEMU 7.2's QAPI types. Values are built in schema member order; the
// printer puts the keys in QEMU's order.
#include "monitor/qmp/qmp_commands.h"

#include <algorithm>

namespace kestrel::qmp {

namespace {

SchemaMember opt(std::string name, std::string type) { return {std::move(name), std::move(type), true}; }

Json cache_info(const BlockDeviceInfo& b) {
    return Json{{"writeback", b.writeback}, {"direct", b.direct}, {"no-flush", b.no_flush}};
}

// QEMU's ImageInfoSpecificQCow2 (version 2 images have fewer members).
Json qcow2_specific(const BlockBackend::ImageSummary& q) {
    Json data = Json::object();
    data["compat"] = q.qcow2_version >= 3 ? "1.1" : "0.10";
    if (q.qcow2_version >= 3) data["lazy-refcounts"] = q.lazy_refcounts;
    if (q.qcow2_version >= 3) data["corrupt"] = q.corrupt;
    data["refcount-bits"] = q.refcount_bits;
    if (q.qcow2_version >= 3) data["extended-l2"] = false;
    data["compression-type"] = "zlib";
    return Json{{"type", "qcow2"}, {"data", data}};
}

Json image_info(const BlockDeviceInfo& b) {
    Json image = Json::object();
    image["filename"] = b.file;
    image["format"] = b.format;
    image["dirty-flag"] = false;
    image["actual-size"] = b.actual_size;
    image["virtual-size"] = b.virtual_size;
    if (b.cluster_size) image["cluster-size"] = b.cluster_size;
    if (b.format == "qcow2" && b.qcow2.qcow2_version) image["format-specific"] = qcow2_specific(b.qcow2);
    if (!b.backing_file.empty()) {
        image["backing-filename"] = b.backing_file;
        image["full-backing-filename"] = b.full_backing_file;
        if (!b.backing_format.empty()) image["backing-filename-format"] = b.backing_format;
    }
    return image;
}

Json inserted_info(const BlockDeviceInfo& b) {
    Json in = Json::object();
    in["file"] = b.file;
    if (!b.node_name.empty())
        in["node-name"] = b.node_name;
    in["ro"] = b.read_only;
    in["drv"] = b.format;
    if (!b.backing_file.empty()) in["backing_file"] = b.backing_file;
    in["backing_file_depth"] = b.backing_file_depth;
    in["encrypted"] = false;
    in["detect_zeroes"] = "off";
    for (const char* limit : {"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"})
        in[limit] = 0;
    in["image"] = image_info(b);
    in["cache"] = cache_info(b);
    in["write_threshold"] = 0;
    return in;
}

// query-named-block-nodes: newest node first, as QEMU keeps its list; each
// format node (as query-block's "inserted"), then the file node under it.
Json named_nodes(std::vector<BlockDeviceInfo> devices) {
    std::sort(devices.begin(), devices.end(), [](auto& a, auto& b) { return a.created > b.created; });
    Json list = Json::array();
    for (const BlockDeviceInfo& b : devices) {
        if (!b.inserted) continue;  // an empty drive has no nodes
        list.push_back(inserted_info(b));
        if (b.file_node_name.empty()) continue;
        BlockDeviceInfo file = b;
        file.node_name = b.file_node_name;
        file.format = b.file_driver;
        file.virtual_size = b.file_size;
        file.cluster_size = 0;
        file.backing_file.clear();
        file.backing_file_depth = 0;
        file.qcow2 = {};
        list.push_back(inserted_info(file));
    }
    return list;
}

// A disk without a device (an if=none drive nobody uses) is "removable"
// and has no I/O status, as in QEMU.
Json block_info(const BlockDeviceInfo& b) {
    bool attached = !b.qdev.empty();
    Json info = Json::object();
    info["device"] = b.device;
    if (attached)
        info["qdev"] = b.qdev;
    info["type"] = "unknown";
    info["removable"] = !attached || b.removable_medium;
    if (b.removable_medium)
        info["tray_open"] = b.tray_open;
    info["locked"] = b.locked;
    if (b.inserted) info["inserted"] = inserted_info(b);
    if (attached)
        info["io-status"] = "ok";
    return info;
}

struct Counters {
    uint64_t rd_bytes = 0, wr_bytes = 0, unmap_bytes = 0;
    uint64_t rd_operations = 0, wr_operations = 0, flush_operations = 0, unmap_operations = 0;
    uint64_t rd_total_time_ns = 0, wr_total_time_ns = 0, flush_total_time_ns = 0, unmap_total_time_ns = 0;
    uint64_t wr_highest_offset = 0, rd_merged = 0, wr_merged = 0;
    std::optional<uint64_t> idle_time_ns;
    uint64_t failed_rd_operations = 0, failed_wr_operations = 0;
    uint64_t failed_flush_operations = 0, failed_unmap_operations = 0;
    bool accounting = false;  // account_invalid / account_failed
};

// The device's counters (QEMU keeps them at the BlockBackend).
Counters device_counters(const BlockDeviceInfo& b) {
    return {b.rd_bytes, b.wr_bytes, b.unmap_bytes, b.rd_operations, b.wr_operations,
            b.flush_operations, b.unmap_operations, b.rd_total_time_ns, b.wr_total_time_ns,
            b.flush_total_time_ns, b.unmap_total_time_ns, b.wr_highest_offset, b.rd_merged,
            b.wr_merged, b.idle_time_ns, b.failed_rd_operations, b.failed_wr_operations,
            b.failed_flush_operations, b.failed_unmap_operations, true};
}

// A node below the device counts nothing but its highest write.
Counters node_counters(const BlockDeviceInfo& b) {
    Counters c;
    c.wr_highest_offset = b.wr_highest_offset;
    return c;
}

Json device_stats(const Counters& c) {
    Json s = Json::object();
    s["rd_bytes"] = c.rd_bytes;
    s["wr_bytes"] = c.wr_bytes;
    s["unmap_bytes"] = c.unmap_bytes;
    s["rd_operations"] = c.rd_operations;
    s["wr_operations"] = c.wr_operations;
    s["flush_operations"] = c.flush_operations;
    s["unmap_operations"] = c.unmap_operations;
    s["rd_total_time_ns"] = c.rd_total_time_ns;
    s["wr_total_time_ns"] = c.wr_total_time_ns;
    s["flush_total_time_ns"] = c.flush_total_time_ns;
    s["unmap_total_time_ns"] = c.unmap_total_time_ns;
    s["wr_highest_offset"] = c.wr_highest_offset;
    s["rd_merged"] = c.rd_merged;
    s["wr_merged"] = c.wr_merged;
    s["unmap_merged"] = 0;
    if (c.idle_time_ns)
        s["idle_time_ns"] = *c.idle_time_ns;
    s["failed_rd_operations"] = c.failed_rd_operations;
    s["failed_wr_operations"] = c.failed_wr_operations;
    s["failed_flush_operations"] = c.failed_flush_operations;
    s["failed_unmap_operations"] = c.failed_unmap_operations;
    for (const char* invalid : {"invalid_rd_operations", "invalid_wr_operations",
                                "invalid_flush_operations", "invalid_unmap_operations"})
        s[invalid] = 0;
    s["account_invalid"] = c.accounting;
    s["account_failed"] = c.accounting;
    s["timed_stats"] = Json::array();
    return s;
}

Json file_node_stats(const BlockDeviceInfo& b) {
    Json node = Json::object();
    node["node-name"] = b.file_node_name;
    node["stats"] = device_stats(node_counters(b));
    node["driver-specific"] = Json{{"driver", b.file_driver}, {"discard-nb-ok", b.discard_nb_ok},
                                   {"discard-nb-failed", b.discard_nb_failed},
                                   {"discard-bytes-ok", b.discard_bytes_ok}};
    return node;
}

Json format_node_stats(const BlockDeviceInfo& b, bool device_level) {
    Json s = Json::object();
    if (device_level) {
        s["device"] = b.device;
        if (!b.qdev.empty())
            s["qdev"] = b.qdev;
    }
    if (!b.node_name.empty())
        s["node-name"] = b.node_name;
    s["stats"] = device_stats(device_level ? device_counters(b) : node_counters(b));
    if (!b.file_node_name.empty())
        s["parent"] = file_node_stats(b);
    return s;
}

// query-nodes=true: every node (the file node, then the format node above
// it), counters of the nodes themselves, no device names.
Json query_blockstats(VmControl& vm, bool nodes) {
    Json list = Json::array();
    for (const BlockDeviceInfo& b : block_devices_of(vm.services())) {
        if (nodes && !b.file_node_name.empty())
            list.push_back(file_node_stats(b));
        list.push_back(format_node_stats(b, !nodes));
    }
    return list;
}

void add_block_types(Schema& s) {
    s.add_object("q_obj_query-named-block-nodes-arg", {opt("flat", "bool")});
    s.add_object("q_obj_query-blockstats-arg", {opt("query-nodes", "bool")});
    s.add_enum("BlockDeviceIoStatus", {"ok", "failed", "nospace"});
    s.add_enum("BlockdevDetectZeroesOptions", {"off", "on", "unmap"});
    s.add_object("BlockdevCacheInfo", {{"writeback", "bool"}, {"direct", "bool"}, {"no-flush", "bool"}});
    s.add_object("ImageInfoSpecificQCow2",
                 {{"compat", "str"}, opt("data-file", "str"), opt("data-file-raw", "bool"),
                  opt("extended-l2", "bool"), opt("lazy-refcounts", "bool"), opt("corrupt", "bool"),
                  {"refcount-bits", "int"}, opt("compression-type", "str")});
    s.add_object("ImageInfoSpecific", {{"type", "str"}, {"data", "ImageInfoSpecificQCow2"}});
    s.add_object("ImageInfo", {{"filename", "str"}, {"format", "str"}, opt("dirty-flag", "bool"),
                               opt("actual-size", "int"), {"virtual-size", "int"},
                               opt("cluster-size", "int"), opt("encrypted", "bool"),
                               opt("compressed", "bool"), opt("backing-filename", "str"),
                               opt("full-backing-filename", "str"),
                               opt("backing-filename-format", "str"),
                               opt("format-specific", "ImageInfoSpecific")});
    std::vector<SchemaMember> device_info = {
        {"file", "str"}, opt("node-name", "str"), {"ro", "bool"}, {"drv", "str"},
        opt("backing_file", "str"), {"backing_file_depth", "int"}, {"encrypted", "bool"},
        {"detect_zeroes", "BlockdevDetectZeroesOptions"}};
    for (const char* limit : {"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"})
        device_info.push_back({limit, "int"});
    device_info.push_back({"image", "ImageInfo"});
    for (const char* limit : {"bps_max", "bps_rd_max", "bps_wr_max", "iops_max", "iops_rd_max",
                              "iops_wr_max", "bps_max_length", "bps_rd_max_length",
                              "bps_wr_max_length", "iops_max_length", "iops_rd_max_length",
                              "iops_wr_max_length", "iops_size"})
        device_info.push_back(opt(limit, "int"));
    device_info.push_back(opt("group", "str"));
    device_info.push_back({"cache", "BlockdevCacheInfo"});
    device_info.push_back({"write_threshold", "int"});
    s.add_object("BlockDeviceInfo", std::move(device_info));
    s.add_object("BlockInfo", {{"device", "str"}, opt("qdev", "str"), {"type", "str"},
                               {"removable", "bool"}, {"locked", "bool"},
                               opt("inserted", "BlockDeviceInfo"), opt("tray_open", "bool"),
                               opt("io-status", "BlockDeviceIoStatus")});
    std::vector<SchemaMember> stats;
    for (const char* name : {"rd_bytes", "wr_bytes", "unmap_bytes", "rd_operations", "wr_operations",
                             "flush_operations", "unmap_operations", "rd_total_time_ns",
                             "wr_total_time_ns", "flush_total_time_ns", "unmap_total_time_ns",
                             "wr_highest_offset", "rd_merged", "wr_merged", "unmap_merged"})
        stats.push_back({name, "int"});
    stats.push_back(opt("idle_time_ns", "int"));
    for (const char* name : {"failed_rd_operations", "failed_wr_operations", "failed_flush_operations",
                             "failed_unmap_operations", "invalid_rd_operations", "invalid_wr_operations",
                             "invalid_flush_operations", "invalid_unmap_operations"})
        stats.push_back({name, "int"});
    stats.push_back({"account_invalid", "bool"});
    stats.push_back({"account_failed", "bool"});
    s.add_object("BlockDeviceTimedStats",
                 {{"interval_length", "int"}, {"min_rd_latency_ns", "int"}, {"max_rd_latency_ns", "int"},
                  {"avg_rd_latency_ns", "int"}, {"min_wr_latency_ns", "int"}, {"max_wr_latency_ns", "int"},
                  {"avg_wr_latency_ns", "int"}, {"min_flush_latency_ns", "int"},
                  {"max_flush_latency_ns", "int"}, {"avg_flush_latency_ns", "int"},
                  {"avg_rd_queue_depth", "number"}, {"avg_wr_queue_depth", "number"}});
    stats.push_back({"timed_stats", "[BlockDeviceTimedStats]"});
    s.add_object("BlockDeviceStats", std::move(stats));
    // QEMU's BlockStatsSpecific is a union on "driver"; kestrel's nodes are
    // all "file" or "host_device", which share these members.
    s.add_object("BlockStatsSpecific", {{"driver", "str"}, {"discard-nb-ok", "int"},
                                        {"discard-nb-failed", "int"}, {"discard-bytes-ok", "int"}});
    s.add_object("BlockStats", {opt("device", "str"), opt("qdev", "str"), opt("node-name", "str"),
                                {"stats", "BlockDeviceStats"},
                                opt("driver-specific", "BlockStatsSpecific"),
                                opt("parent", "BlockStats"), opt("backing", "BlockStats")});
}

} // namespace

void add_block_commands(QmpCommandTable& table, Schema& schema, QmpServices& services) {
    add_block_types(schema);
    VmControl& vm = services.vm;
    table.add({"query-block", "q_empty", "[BlockInfo]", [&vm](const Json&) {
        Json list = Json::array();
        for (const BlockDeviceInfo& b : block_devices_of(vm.services()))
            if (b.has_backend) list.push_back(block_info(b));
        return list;
    }});
    table.add({"query-named-block-nodes", "q_obj_query-named-block-nodes-arg", "[BlockDeviceInfo]",
               [&vm](const Json&) { return named_nodes(block_devices_of(vm.services())); }});
    table.add({"query-blockstats", "q_obj_query-blockstats-arg", "[BlockStats]", [&vm](const Json& args) {
        Json nodes = optional_arg(args, "query-nodes");
        return query_blockstats(vm, nodes.is_boolean() && nodes.get<bool>());
    }});
}

} // namespace kestrel::qmp
