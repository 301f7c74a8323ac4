// kestrel-img commit [-q] [-f fmt] [-t cache] [-b base] [-d] [-p] filename
// Copies what the image (and the layers between it and the base) holds
// into the base, then empties the image unless -d.
#include "block/async/buffer.h"
#include "block/image/image_open.h"
#include "block/qcow2/qcow2_image.h"
#include "img/chain_status.h"
#include "img/img_commands.h"
#include "img/img_common.h"

#include <cstdio>

namespace kestrel::img {

namespace {

constexpr uint64_t kStep = 2u << 20;

} // namespace

int cmd_commit(int argc, char** argv) {
    std::string format, base_name;
    bool drop = false, progress = false, quiet = false;
    CacheMode cache = CacheMode::Unsafe;
    std::vector<std::string> operands = parse_options(
        argc, argv, "f:ht:b:dpqr:", {{"help", no_argument, 'h'}}, [&](int c, const char* arg) {
            switch (c) {
            case 'h': print_help_and_exit();
            case 'f': format = arg; break;
            case 't': cache = parse_cache(arg, false); break;
            case 'b': base_name = arg; drop = true; break;  // -b implies -d, as in qemu-img
            case 'd': drop = true; break;
            case 'p': progress = true; break;
            case 'q': quiet = true; break;
            case 'r': fail("Rate limits (-r) are not supported by kestrel-img");
            }
        });
    if (operands.size() != 1) usage_error("Expecting one image file name");
    if (quiet) progress = false;
    AioContext ctx;
    OpenRequest r;
    r.path = operands[0];
    r.format = format;
    r.writable = !drop;
    r.cache = cache;
    std::unique_ptr<AsyncImage> top = open_for_command(ctx, r);
    // The base: the backing file, or the named image of the chain.
    int base_depth = 1;
    std::string base_path;
    AsyncImage* layer = top.get();
    std::string layer_path = operands[0];
    for (int depth = 1;; depth++) {
        auto* q = dynamic_cast<Qcow2Image*>(layer);
        if (!q || !layer->backing()) {
            if (depth == 1) fail("Image does not have a backing file");
            fail("Base '" + base_name + "' not found");
        }
        std::string next = resolve_backing_path(layer_path, q->header().backing_file);
        if (base_name.empty() || next == base_name || q->header().backing_file == base_name) {
            base_depth = depth;
            base_path = next;
            break;
        }
        layer = layer->backing();
        layer_path = next;
    }
    AsyncImage* base_in_chain = top.get();
    for (int d = 0; d < base_depth; d++) base_in_chain = base_in_chain->backing();
    std::string base_format = base_in_chain->format_name();
    uint64_t length = top->size();
    // The base is written through an image of its own (the chain's copy is read-only).
    OpenRequest b;
    b.path = base_path;
    b.format = base_format;
    b.writable = true;
    b.cache = cache;
    b.open_backing = true;
    b.lock = false;  // the chain above holds read locks on it
    std::unique_ptr<AsyncImage> base = open_for_command(ctx, b);
    if (base->size() < length) {
        int err = 0;
        if (auto* q = dynamic_cast<Qcow2Image*>(base.get())) err = ctx.run(q->resize(length));
        else err = -ENOTSUP;
        if (err < 0) fail("Top image is larger than base image, and resizing it failed: " + errno_text(err));
    }
    Progress bar(progress, 1.0);
    bar.update(0);
    Buffer buf(kStep);
    for (uint64_t off = 0; off < length;) {
        ChainStatus st = ctx.run(chain_status(*top, off, std::min(kStep, length - off)));
        if (st.length == 0) fail("Could not read file metadata");
        if (st.present && st.depth < base_depth) {
            int err;
            if (st.zero && !st.data) {
                err = ctx.run(base->write_zeroes(off, st.length, false));
            } else {
                std::vector<iovec> iov{buf.iov(0, size_t(st.length))};
                err = ctx.run(top->read(off, iov));
                if (err == 0) err = ctx.run(base->write(off, iov));
            }
            if (err < 0) fail("Block job failed: " + errno_text(err));
        }
        off += st.length;
        bar.update(100.0 * double(off) / double(length));
    }
    int err = ctx.run(base->close());
    if (err < 0) fail("Block job failed: " + errno_text(err));
    bar.finish();
    if (!drop) {
        auto* q = dynamic_cast<Qcow2Image*>(top.get());
        err = q ? ctx.run(q->make_empty()) : -ENOTSUP;
        if (err == 0) err = ctx.run(top->close());
        if (err < 0) fail("Could not empty " + operands[0] + ": " + errno_text(err));
    }
    if (!quiet) std::printf("Image committed.\n");
    return 0;
}

} // namespace kestrel::img
