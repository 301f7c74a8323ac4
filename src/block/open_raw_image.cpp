// open_raw_image(): the file, its locks and, with snapshot=on, the private
// copy the guest writes to.
#include "block/block_backend.h"
#include "block/image_file.h"
#include "block/image_lock.h"
#include "block/raw_backend.h"
#include "block/snapshot_file.h"

#include <fcntl.h>
#include <string>

namespace kestrel {

namespace {

// The temporary copy as an ImageFile with the cache mode's flags; the plain
// fd serves misaligned O_DIRECT requests. Without O_DIRECT support in the
// temporary directory the copy is used through the page cache.
ImageFile snapshot_image(const ImageFile& base, const std::string& path, CacheMode cache) {
    UniqueFd plain = make_snapshot_copy(base.fd.get(), base.size, path);
    ImageFile copy;
    copy.size = base.size;
    copy.logical_block_size = base.logical_block_size;
    int flags = cache_mode_open_flags(cache);
    if (flags == 0) {
        copy.fd = std::move(plain);
        return copy;
    }
    std::string self = "/proc/self/fd/" + std::to_string(plain.get());
    copy.fd = UniqueFd(::open(self.c_str(), O_RDWR | O_CLOEXEC | flags));
    if (!copy.fd && (flags & O_DIRECT))
        copy.fd = UniqueFd(::open(self.c_str(), O_RDWR | O_CLOEXEC | (flags & ~O_DIRECT)));
    if (!copy.fd) {  // no /proc: without the cache flags
        copy.fd = std::move(plain);
        return copy;
    }
    if (fcntl(copy.fd.get(), F_GETFL) & O_DIRECT) {
        probe_dio_alignment(copy);
        copy.buffered_fd = std::move(plain);
    }
    return copy;
}

} // namespace

std::unique_ptr<BlockBackend> open_raw_image(const BlockOpenOptions& options) {
    bool snapshot = options.snapshot && !options.read_only;
    bool writable = !options.read_only && !snapshot;
    // The base of a snapshot is only read, through the page cache.
    CacheMode base_cache = snapshot ? CacheMode::Writeback : options.cache;
    ImageFile image = open_image_file(options.path, writable, base_cache);
    if (options.lock) lock_image(image.fd.get(), options.path, drive_permissions(writable, snapshot));

    RawBackendSetup setup;
    setup.path = options.path;
    setup.read_only = options.read_only;
    setup.cache = options.cache;
    setup.discard_unmap = options.discard_unmap;
    if (snapshot) {
        setup.image = snapshot_image(image, options.path, options.cache);
        setup.locked_base = std::move(image.fd);
    } else {
        setup.image = std::move(image);
    }
    return std::make_unique<RawBackend>(std::move(setup));
}

} // namespace kestrel
