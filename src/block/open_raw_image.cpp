// open_raw_image(): the file and its locks.
#include "block/block_backend.h"
#include "block/image_file.h"
#include "block/image_lock.h"
#include "block/raw_backend.h"

#include <string>

namespace kestrel {

std::unique_ptr<BlockBackend> open_raw_image(const BlockOpenOptions& options) {
    bool writable = !options.read_only;
    ImageFile image = open_image_file(options.path, writable, options.cache);
    if (options.lock) image.lock = lock_image(image.fd.get(), options.path, drive_permissions(writable, false));

    RawBackendSetup setup;
    setup.path = options.path;
    setup.read_only = options.read_only;
    setup.cache = options.cache;
    setup.discard_unmap = options.discard_unmap;
    setup.image = std::move(image);
    return std::make_unique<RawBackend>(std::move(setup));
}

} // namespace kestrel
