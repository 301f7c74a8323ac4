// kestrel-img rebase [-U] [-q] [-f fmt] [-t cache] [-T src_cache] [-p] [-u] -b backing_file [-F backing_fmt] filename
// Safe mode keeps what the guest sees: where the image has no cluster of
// its own and the old and new backing files differ, the old data is
// copied into the image first. -u only rewrites the header.
#include "block/async/buffer.h"
#include "block/image/image_open.h"
#include "block/qcow2/qcow2_image.h"
#include "img/img_commands.h"
#include "img/img_common.h"

#include <cstdio>
#include <cstring>

namespace kestrel::img {

namespace {

constexpr uint64_t kStep = 1u << 20;

// Reads [off, off + len) of `image`, zeros past its end.
int read_padded(AioContext& ctx, AsyncImage* image, uint64_t off, uint8_t* out, uint64_t len) {
    std::memset(out, 0, len);
    if (!image || off >= image->size()) return 0;
    uint64_t n = std::min(len, image->size() - off);
    std::vector<iovec> iov{{out, size_t(n)}};
    return ctx.run(image->read(off, std::move(iov)));
}

} // namespace

int cmd_rebase(int argc, char** argv) {
    std::string format, backing, backing_format;
    bool have_backing = false, unsafe = false, progress = false, quiet = false, force_share = false;
    CacheMode cache = CacheMode::Writeback, source_cache = CacheMode::Writeback;
    std::vector<std::string> operands = parse_options(
        argc, argv, "hf:F:b:upt:T:qU", {{"help", no_argument, 'h'}, {"force-share", no_argument, 'U'}},
        [&](int c, const char* arg) {
            switch (c) {
            case 'h': print_help_and_exit();
            case 'f': format = arg; break;
            case 'F': backing_format = arg; break;
            case 'b': backing = arg; have_backing = true; break;
            case 'u': unsafe = true; break;
            case 'p': progress = true; break;
            case 't': cache = parse_cache(arg, false); break;
            case 'T': source_cache = parse_cache(arg, true); break;
            case 'q': quiet = true; break;
            case 'U': force_share = true; break;
            }
        });
    if (operands.size() != 1) usage_error("Expecting one image file name");
    if (!have_backing) usage_error("Must specify backing file (-b) or use unsafe mode (-u)");
    if (quiet) progress = false;
    const std::string& filename = operands[0];
    AioContext ctx;
    OpenRequest r;
    r.path = filename;
    r.format = format;
    r.writable = true;
    r.cache = cache;
    r.open_backing = !unsafe;
    std::unique_ptr<AsyncImage> image = open_for_command(ctx, r);
    auto* q = dynamic_cast<Qcow2Image*>(image.get());
    auto change_fail = [&](const std::string& why) { fail("Could not change the backing file to '" + backing + "': " + why); };
    if (!q) change_fail("Operation not supported");
    std::unique_ptr<AsyncImage> new_base;
    if (!backing.empty() && !unsafe) {
        OpenRequest b;
        b.path = resolve_backing_path(filename, backing);
        b.format = backing_format;
        b.force_share = force_share;
        b.cache = source_cache;
        try {
            new_base = open_for_command(ctx, b);
        } catch (const Failure& f) {
            fail("Could not open new backing file '" + b.path + "': " + f.what());
        }
        if (backing_format.empty()) backing_format = new_base->format_name();
    }
    if (unsafe && !backing.empty() && backing_format.empty()) change_fail("backing format must be specified");
    if (!unsafe) {
        Progress bar(progress, 2.0);
        bar.update(0);
        AsyncImage* old_base = image->backing();
        Buffer old_data(kStep), new_data(kStep);
        for (uint64_t off = 0; off < image->size();) {
            uint64_t len = std::min(kStep, image->size() - off);
            BlockStatus st = ctx.run(image->block_status(off, len));
            len = std::max<uint64_t>(std::min(len, st.length), 1);
            if (st.kind == BlockStatus::Unallocated) {
                int err = read_padded(ctx, old_base, off, old_data.data(), len);
                if (err == 0) err = read_padded(ctx, new_base.get(), off, new_data.data(), len);
                if (err < 0) fail("error while reading image metadata: " + errno_text(err));
                if (std::memcmp(old_data.data(), new_data.data(), len) != 0) {
                    std::vector<iovec> iov{old_data.iov(0, size_t(len))};
                    err = ctx.run(image->write(off, std::move(iov)));
                    if (err < 0) fail("Error while writing to COW image: " + errno_text(err));
                }
            }
            off += len;
            bar.update(100.0 * double(off) / double(image->size()));
        }
        bar.finish();
    }
    int err = ctx.run(q->change_backing_file(backing, backing.empty() ? "" : backing_format));
    if (err == -ENOSPC) change_fail("No space left in the file header");
    if (err < 0) change_fail(errno_text(err));
    err = ctx.run(image->close());
    if (err < 0) fail("Could not write image: " + errno_text(err));
    return 0;
}

} // namespace kestrel::img
