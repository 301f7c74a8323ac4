// open_image_backend(): a -drive on a qcow2 image, with its backing
// chain, served by an ImageBackend. snapshot=on puts a temporary qcow2
// overlay (an unlinked file in $TMPDIR, default /var/tmp, as QEMU's) over
// the image (raw or qcow2), which is then only read; HMP commit copies the
// overlay back.
#include "block/block_backend.h"
#include "block/image/image_backend.h"
#include "block/image/image_open.h"
#include "block/image_file.h"
#include "block/qcow2/qcow2_create.h"
#include "block/qcow2/qcow2_image.h"
#include "block/snapshot_file.h"

#include <climits>
#include <cstdlib>
#include <stdexcept>

namespace kestrel {

namespace {

std::string absolute(const std::string& path) {
    char buf[PATH_MAX];
    return realpath(path.c_str(), buf) ? std::string(buf) : path;
}

std::unique_ptr<AsyncImage> temporary_overlay(AioContext& ctx, std::unique_ptr<AsyncImage> base,
                                              const BlockOpenOptions& o) {
    UniqueFd fd = create_unlinked_temp(o.path);
    Qcow2CreateOptions c;
    c.size = (base->size() + 511) & ~uint64_t(511);
    c.backing_file = absolute(o.path);
    c.backing_format = base->format_name();
    int err = write_new_qcow2(fd.get(), c);
    if (err < 0)
        throw std::runtime_error("Could not create temporary snapshot of '" + o.path + "': " + std::strerror(-err));
    std::string self = "/proc/self/fd/" + std::to_string(fd.get());
    CacheMode cache = o.cache == CacheMode::None || o.cache == CacheMode::Directsync ? CacheMode::Writeback : o.cache;
    ImageFile file = open_image_file(self, true, cache);
    Qcow2OpenOptions q;
    q.read_only = false;
    q.cache = cache;
    q.discard_unmap = o.discard_unmap;
    q.l2_cache_bytes = o.l2_cache_bytes;
    std::unique_ptr<Qcow2Image> overlay = Qcow2Image::open(ctx, self, std::move(file), q);
    overlay->set_backing(std::move(base));
    return overlay;
}

} // namespace

std::unique_ptr<BlockBackend> open_image_backend(const BlockOpenOptions& o, const std::string& format) {
    auto ctx = std::make_unique<AioContext>();
    const bool snapshot = o.snapshot && !o.read_only;
    ImageOpenOptions io;
    io.path = o.path;
    io.format = format;
    io.read_only = o.read_only || snapshot;
    io.cache = snapshot ? CacheMode::Writeback : o.cache;
    io.discard_unmap = o.discard_unmap;
    io.lock = o.lock;
    io.snapshot_base = snapshot;
    io.l2_cache_bytes = o.l2_cache_bytes;
    io.open_backing = o.open_backing;
    std::unique_ptr<AsyncImage> image = open_image(*ctx, io);
    if (snapshot) image = temporary_overlay(*ctx, std::move(image), o);
    return std::make_unique<ImageBackend>(std::move(ctx), std::move(image), o.path, o.cache);
}

} // namespace kestrel
