// kestrel-img measure [--output=ofmt] [-O output_fmt] [-o options] [--size N | [-f fmt] filename]
// The sizes QEMU's qcow2_measure / raw_measure compute: the target's
// metadata for a fully allocated disk, plus the data the source holds.
#include "img/chain_status.h"
#include "img/create_options.h"
#include "img/img_commands.h"
#include "img/img_common.h"
#include "img/qdict_json.h"

#include <bit>
#include <cinttypes>
#include <cstdio>

namespace kestrel::img {

namespace {

enum { kOptOutput = 256, kOptSize, kOptForceShare };

uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t round_up(uint64_t a, uint64_t b) { return div_up(a, b) * b; }

// Refcount table and blocks for `clusters` clusters, themselves included
// (the fixed point QEMU's qcow2_refcount_metadata_size finds).
uint64_t refcount_metadata_size(uint64_t clusters, uint64_t cluster_size, uint32_t refcount_order) {
    uint64_t per_table_cluster = cluster_size / 8, per_block = cluster_size * 8 >> refcount_order;
    uint64_t table = 0, blocks = 0, n = 0, last;
    do {
        last = n;
        blocks = div_up(clusters + table + blocks, per_block);
        table = div_up(blocks, per_table_cluster);
        n = clusters + blocks + table;
    } while (n != last);
    return (blocks + table) * cluster_size;
}

// QEMU's qcow2_calc_prealloc_size: the file of a fully allocated image.
uint64_t prealloc_size(uint64_t total, uint64_t cluster_size, uint32_t refcount_order) {
    uint64_t aligned = round_up(total, cluster_size);
    uint64_t meta = cluster_size;  // header
    uint64_t l2_tables = div_up(aligned / cluster_size, cluster_size / 8);
    meta += l2_tables * cluster_size;
    meta += round_up(l2_tables * 8, cluster_size);  // L1
    meta += refcount_metadata_size((meta + aligned) / cluster_size, cluster_size, refcount_order);
    return meta + aligned;
}

} // namespace

int cmd_measure(int argc, char** argv) {
    std::string format, out_format = "raw", options_text;
    bool json = false, have_size = false, force_share = false;
    uint64_t size = 0;
    std::vector<std::string> operands = parse_options(
        argc, argv, "hf:O:o:l:U",
        {{"help", no_argument, 'h'},
         {"output", required_argument, kOptOutput},
         {"size", required_argument, kOptSize},
         {"force-share", no_argument, 'U'}},
        [&](int c, const char* arg) {
            switch (c) {
            case 'h': print_help_and_exit();
            case 'f': format = arg; break;
            case 'O': out_format = arg; break;
            case 'o':
                if (!options_text.empty()) options_text += ",";
                options_text += arg;
                break;
            case 'l': fail("Measuring internal snapshots (-l) is not supported by kestrel-img");
            case 'U': force_share = true; break;
            case kOptOutput: json = parse_output_json(arg); break;
            case kOptSize:
                size = size_option("image size", arg);
                have_size = true;
                break;
            }
        });
    if (operands.size() > 1) usage_error("Expecting one image file name");
    if (have_size && !operands.empty()) fail("--size N cannot be used together with a filename.");
    if (!have_size && operands.empty()) fail("Either --size N or one filename must be specified.");
    if (!known_format(out_format)) fail("Unknown file format '" + out_format + "'");
    std::map<std::string, std::string> opts;
    parse_create_options(options_text, opts);
    uint64_t cluster = 65536;
    uint32_t refcount_order = 4;
    if (opts.count("cluster_size")) {
        if (!parse_size(opts["cluster_size"], cluster) || !std::has_single_bit(cluster) || cluster < 512 ||
            cluster > (2u << 20))
            fail("Cluster size must be a power of two between 512 and 2048k");
    }
    if (opts.count("refcount_bits")) {
        unsigned long bits = std::strtoul(opts["refcount_bits"].c_str(), nullptr, 10);
        if (!std::has_single_bit(bits) || bits > 64) fail("Refcount width must be a power of two and may not exceed 64 bits");
        refcount_order = uint32_t(std::countr_zero(bits));
    }
    bool has_backing = opts.count("backing_file");

    AioContext ctx;
    std::unique_ptr<AsyncImage> in;
    if (!operands.empty()) {
        OpenRequest r;
        r.path = operands[0];
        r.format = format;
        r.force_share = force_share;
        in = open_for_command(ctx, r);
    }
    uint64_t required = 0, fully = 0;
    if (out_format == "raw") {
        required = in ? in->size() : round_up(size, 512);
        fully = required;
    } else {
        uint64_t virtual_size = round_up(in ? in->size() : size, cluster);
        required = in ? virtual_size : 0;  // --size: no data yet
        if (in && !has_backing) {
            required = 0;
            uint64_t end = in->size();
            for (uint64_t off = 0; off < end;) {
                ChainStatus st = ctx.run(chain_status(*in, off, end - off));
                uint64_t pnum = st.length;
                if (pnum == 0) fail("Unable to get block status");
                if (st.zero && !st.data) {
                    // zeros need nothing
                } else if (st.data && st.present) {
                    pnum = round_up(off + pnum, cluster) - off;
                    required += off % cluster + pnum;
                }
                off += pnum;
            }
        }
        fully = prealloc_size(virtual_size, cluster, refcount_order);
        required = fully - virtual_size + required;
    }
    // QEMU adds the persistent bitmaps' size when both formats have them.
    bool bitmaps = in && std::string(in->format_name()) == "qcow2" && out_format == "qcow2";
    if (json) {
        Json info = Json::object();
        info.set("required", required);
        info.set("fully-allocated", fully);
        if (bitmaps) info.set("bitmaps", uint64_t(0));
        std::printf("%s\n", info.pretty().c_str());
    } else {
        std::printf("required size: %" PRIu64 "\nfully allocated size: %" PRIu64 "\n", required, fully);
        if (bitmaps) std::printf("bitmaps size: 0\n");
    }
    return 0;
}

} // namespace kestrel::img
