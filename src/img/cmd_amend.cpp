// kestrel-img amend [-p] [-q] [-f fmt] [-t cache] [--force] -o options filename
// What kestrel-img can change in place: lazy_refcounts, and compat
// (1.1 → 0.10 only for images without v3-only features). Other options
// are refused with a reason.
#include "block/qcow2/qcow2_image.h"
#include "img/create_options.h"
#include "img/img_commands.h"
#include "img/img_common.h"

namespace kestrel::img {

namespace {

enum { kOptForce = 256 };

bool on_off(const std::string& name, const std::string& v) {
    if (v == "on" || v == "true" || v == "yes") return true;
    if (v == "off" || v == "false" || v == "no") return false;
    fail("Parameter '" + name + "' expects 'on' or 'off'");
}

} // namespace

int cmd_amend(int argc, char** argv) {
    std::string format, options_text;
    CacheMode cache = CacheMode::Writeback;
    std::vector<std::string> operands = parse_options(
        argc, argv, "ho:f:t:pq", {{"help", no_argument, 'h'}, {"force", no_argument, kOptForce}},
        [&](int c, const char* arg) {
            switch (c) {
            case 'h': print_help_and_exit();
            case 'o':
                if (!options_text.empty()) options_text += ",";
                options_text += arg;
                break;
            case 'f': format = arg; break;
            case 't': cache = parse_cache(arg, false); break;
            }
        });
    if (options_text.empty()) usage_error("Must specify options (-o)");
    std::map<std::string, std::string> opts;
    parse_create_options(options_text, opts);
    if (opts.count("help")) {
        print_create_help(format.empty() ? "qcow2" : format);
        return 0;
    }
    if (operands.size() != 1) usage_error("Expecting one image file name");
    AioContext ctx;
    OpenRequest r;
    r.path = operands[0];
    r.format = format;
    r.writable = true;
    r.cache = cache;
    r.open_backing = false;
    std::unique_ptr<AsyncImage> image = open_for_command(ctx, r);
    auto* q = dynamic_cast<Qcow2Image*>(image.get());
    if (!q) fail("Format driver 'raw' does not support option amendment");
    qcow2::Header h = q->header();
    for (const auto& [name, value] : opts) {
        if (name == "lazy_refcounts") {
            bool on = on_off(name, value);
            if (on && h.version < 3)
                fail("Lazy refcounts only supported with compatibility level 1.1 and above (use compat=1.1 or greater)");
            h.compatible_features = on ? h.compatible_features | qcow2::kCompatLazyRefcounts
                                       : h.compatible_features & ~qcow2::kCompatLazyRefcounts;
        } else if (name == "compat") {
            if (value == "1.1" || value == "v3") {
                h.version = 3;
            } else if (value == "0.10" || value == "v2") {
                h.version = 2;
            } else {
                fail("Invalid compatibility level: '" + value + "'");
            }
        } else if (name == "backing_file" || name == "backing_fmt") {
            fail_with_hint("Cannot amend the backing file", "You can use 'qemu-img rebase' instead.");
        } else if (name == "size") {
            fail("Changing the size with amend is not supported by kestrel-img; use resize");
        } else if (name == "refcount_bits" || name == "cluster_size" || name == "preallocation" ||
                   name == "compression_type") {
            fail("Changing '" + name + "' is not supported by kestrel-img");
        } else {
            fail("Invalid parameter '" + name + "'");
        }
    }
    if (h.version < 3) {
        if (h.refcount_order != 4) fail("compat=0.10 requires refcount_bits=16");
        if (h.compatible_features & qcow2::kCompatLazyRefcounts)
            fail("Lazy refcounts only supported with compatibility level 1.1 and above (use compat=1.1 or greater)");
    }
    int err = ctx.run(q->amend_header(h));
    if (err == -EBUSY) fail("Internal snapshots prevent downgrade of image");
    if (err == -EEXIST) fail("Failed to turn zero into data clusters: downgrading images with zero clusters is not supported by kestrel-img");
    if (err == 0) err = ctx.run(image->close());
    if (err < 0) fail("Error while amending options: " + errno_text(err));
    return 0;
}

} // namespace kestrel::img
