// "info block [-n] [-v] [device]", "info blockstats" and "info block-jobs" from
// the machine's BlockService, in QEMU 7.2's layout.
#include "monitor/hmp/hmp_command.h"
#include "monitor/medium_commands.h"
#include "base/size_text.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <fmt/format.h>

namespace kestrel {

namespace {

struct InfoBlockArgs {
    bool nodes = false;    // -n: the block nodes instead of the devices
    bool verbose = false;  // -v: an "Images:" section per entry
    std::optional<std::string> device;
};

// QEMU's argument spec "-n -v [device]": each flag is tried in turn; a
// later flag may be given first (then the earlier one is skipped).
InfoBlockArgs parse_info_block_args(std::string_view text) {
    InfoBlockArgs args;
    constexpr std::string_view flags = "nv";
    for (size_t i = 0; i < flags.size(); ++i) {
        skip_hmp_spaces(text);
        if (text.empty() || text.front() != '-')
            continue;
        char given = text.size() > 1 ? text[1] : '\0';
        if (given == flags[i]) {
            (given == 'n' ? args.nodes : args.verbose) = true;
            text.remove_prefix(2);
        } else if (given == '\0' || flags.find(given, i + 1) == std::string_view::npos) {
            throw HmpArgError(std::string("block: unsupported option -") + given);
        }
    }
    args.device = parse_hmp_string(text);
    skip_hmp_spaces(text);
    if (!text.empty())
        throw HmpArgError("block: extraneous characters at the end of line");
    return args;
}

void print_image(HmpContext& ctx, const BlockDeviceInfo& b, const std::string& format) {
    ctx.print("\nImages:\n");
    ctx.print(fmt::format("image: {}\nfile format: {}\nvirtual size: {} ({} bytes)\ndisk size: {}\n",
                          b.file, format, size_to_str(b.virtual_size), b.virtual_size,
                          size_to_str(b.actual_size)));
}

void print_cache_mode(HmpContext& ctx, const BlockDeviceInfo& b) {
    ctx.print(fmt::format("    Cache mode:       {}{}{}\n", b.writeback ? "writeback" : "writethrough",
                          b.direct ? ", direct" : "", b.no_flush ? ", ignore flushes" : ""));
}

void print_removable(HmpContext& ctx, const BlockDeviceInfo& b) {
    ctx.print(fmt::format("    Removable device: {}locked, tray {}\n", b.locked ? "" : "not ",
                          b.tray_open ? "open" : "closed"));
}

void print_device(HmpContext& ctx, const BlockDeviceInfo& b, bool verbose) {
    if (!b.inserted) {
        ctx.print((b.device.empty() ? b.qdev : b.device) + ": [not inserted]\n");
        if (!b.qdev.empty()) ctx.print("    Attached to:      " + b.qdev + "\n");
        print_removable(ctx, b);
        return;
    }
    std::string name = b.device.empty() ? (b.node_name.empty() ? b.qdev : b.node_name) : b.device;
    if (!b.device.empty() && !b.node_name.empty())
        name += " (" + b.node_name + ")";
    ctx.print(fmt::format("{}: {} ({}{})\n", name, b.file, b.format, b.read_only ? ", read-only" : ""));
    if (!b.qdev.empty())
        ctx.print("    Attached to:      " + b.qdev + "\n");
    if (b.qdev.empty() || b.removable_medium)
        print_removable(ctx, b);
    print_cache_mode(ctx, b);
    if (verbose)
        print_image(ctx, b, b.format);
}

// One node of "info block -n": the format node or the file node below it.
void print_node(HmpContext& ctx, const BlockDeviceInfo& b, const std::string& node,
                const std::string& driver, bool verbose) {
    ctx.print(fmt::format("{}: {} ({}{})\n", node, b.file, driver, b.read_only ? ", read-only" : ""));
    print_cache_mode(ctx, b);
    if (verbose)
        print_image(ctx, b, driver);
}

struct Node {
    const BlockDeviceInfo* disk;
    std::string name, driver;
};

// QEMU lists the nodes newest first: the last disk's format node, its
// file node, then the disk before.
std::vector<Node> block_nodes(const std::vector<BlockDeviceInfo>& disks) {
    std::vector<Node> nodes;
    for (auto it = disks.rbegin(); it != disks.rend(); ++it) {
        if (!it->node_name.empty())
            nodes.push_back({&*it, it->node_name, it->format});
        if (!it->file_node_name.empty())
            nodes.push_back({&*it, it->file_node_name, it->file_driver});
    }
    return nodes;
}

} // namespace

void hmp_info_block(HmpContext& ctx, const HmpCall& call) {
    InfoBlockArgs args;
    try {
        args = parse_info_block_args(call.has(0) ? call.text(0) : std::string());
    } catch (const HmpArgError& e) {
        ctx.print(std::string(e.what()) + "\nTry \"help info block\" for more information\n");
        return;
    }
    std::vector<BlockDeviceInfo> disks = block_devices_of(ctx.vm().services());
    bool printed = false;
    if (!args.nodes) {
        for (size_t i = 0; i < disks.size(); ++i) {
            if ((args.device && *args.device != disks[i].device) || !disks[i].has_backend)
                continue;
            if (i != 0)  // sic: QEMU separates by list position, even when filtering
                ctx.print("\n");
            print_device(ctx, disks[i], args.verbose);
            printed = true;
        }
    }
    if ((!args.device && !args.nodes) || printed)
        return;
    std::vector<Node> nodes = block_nodes(disks);
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (args.device && *args.device != nodes[i].name)
            continue;
        if (i != 0)
            ctx.print("\n");
        print_node(ctx, *nodes[i].disk, nodes[i].name, nodes[i].driver, args.verbose);
    }
}

// kestrel runs no block jobs (see query-block-jobs).
void hmp_info_block_jobs(HmpContext& ctx, const HmpCall&) { ctx.print("No active jobs\n"); }

void hmp_info_blockstats(HmpContext& ctx, const HmpCall&) {
    for (const BlockDeviceInfo& b : block_devices_of(ctx.vm().services())) {
        if (b.device.empty())
            continue;
        ctx.print(fmt::format("{}: rd_bytes={} wr_bytes={} rd_operations={} wr_operations={} "
                              "flush_operations={} wr_total_time_ns={} rd_total_time_ns={} "
                              "flush_total_time_ns={} rd_merged={} wr_merged={} idle_time_ns={}\n",
                              b.device, b.rd_bytes, b.wr_bytes, b.rd_operations, b.wr_operations,
                              b.flush_operations, b.wr_total_time_ns, b.rd_total_time_ns,
                              b.flush_total_time_ns, b.rd_merged, b.wr_merged, b.idle_time_ns.value_or(0)));
    }
}

// "commit device|all": QEMU prints nothing on success.
void hmp_commit(HmpContext& ctx, const HmpCall& call) {
    std::string device = call.text(0);
    BlockService* block = ctx.vm().services().find<BlockService>();
    try {
        if (!block) throw std::invalid_argument("Device '" + device + "' not found");
        int r = block->commit(device);
        if (r < 0) ctx.print("'commit' error for '" + device + "': " + std::strerror(-r) + "\n");
    } catch (const std::invalid_argument& e) {
        ctx.print(std::string(e.what()) + "\n");
    }
}

namespace {

// QEMU's "-f" flag before the next argument: true when given; another
// letter is refused (false, with `bad` set to it).
bool take_force_flag(std::string_view& rest, char& bad) {
    skip_hmp_spaces(rest);
    if (rest.empty() || rest.front() != '-') return false;
    bad = rest.size() > 1 ? rest[1] : '\0';
    if (bad != 'f') return false;
    bad = 0;
    rest.remove_prefix(2);
    skip_hmp_spaces(rest);
    return true;
}

void usage_error(HmpContext& ctx, const std::string& command, const std::string& text) {
    ctx.print(command + ": " + text + "\nTry \"help " + command + "\" for more information\n");
}

} // namespace

// "eject [-f] device": QMP's eject by drive name.
void hmp_eject(HmpContext& ctx, const HmpCall& call) {
    std::string_view rest = call.has(0) ? std::string_view(call.text(0)) : std::string_view();
    char bad = 0;
    const bool force = take_force_flag(rest, bad);
    if (bad) return usage_error(ctx, "eject", std::string("unsupported option -") + bad);
    std::optional<std::string> device = parse_hmp_string(rest);
    if (!device) return usage_error(ctx, "eject", "block device name expected");
    skip_hmp_spaces(rest);
    if (!rest.empty()) return usage_error(ctx, "eject", "extraneous characters at the end of line");
    MediumTarget target{*device, std::nullopt};
    with_media(ctx.vm(), target, [&](MediumService& m) { m.eject(target, force); });
}

// "change device [-f] filename [format [read-only-mode]]" for a drive
// (hmp_change has taken "vnc").
void hmp_change_medium(HmpContext& ctx, const std::string& device, std::string_view rest) {
    char bad = 0;
    const bool force = take_force_flag(rest, bad);
    if (bad) return usage_error(ctx, "change", std::string("unsupported option -") + bad);
    std::optional<std::string> filename = parse_hmp_string(rest);
    if (!filename) return usage_error(ctx, "change", "filename expected");
    std::string format = parse_hmp_string(rest).value_or("");
    std::optional<std::string> mode = parse_hmp_string(rest);
    skip_hmp_spaces(rest);
    if (!rest.empty()) return usage_error(ctx, "change", "extraneous characters at the end of line");
    if (mode && *mode != "retain" && *mode != "read-only" && *mode != "read-write")
        throw MonitorError("invalid parameter value: " + *mode);
    MediumTarget target{device, std::nullopt};
    with_media(ctx.vm(), target, [&](MediumService& m) {
        m.change_medium(target, *filename, format, force, mode.value_or("retain"));
    });
}

} // namespace kestrel
