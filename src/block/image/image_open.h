#pragma once
// Opening an image of any format with its backing chain, as QEMU does:
// the format given or probed (qcow2 by its header, anything else raw),
// QEMU-compatible locks, backing files opened read-only with the format
// the overlay names (or probed), relative names resolved from the
// overlay's folder, loops and over-deep chains refused.
#include "block/block_backend.h"
#include "block/image/async_image.h"

#include <memory>
#include <string>

namespace kestrel {

struct ImageOpenOptions {
    std::string path;
    std::string format;  // "raw", "qcow2", or "" to probe
    bool read_only = true;
    CacheMode cache = CacheMode::Writeback;
    bool discard_unmap = false;
    bool lock = true;
    bool open_backing = true;    // qemu-img info opens no backing file
    bool snapshot_base = false;  // the base of a snapshot=on overlay (refuses resizing to others)
    uint64_t l2_cache_bytes = 0;
    // Share write with others (qemu-img -U / force-share).
    bool force_share = false;
    // check -r: a qcow2 image marked corrupt may be opened read-write.
    bool for_repair = false;
};

// "qcow2" when the file starts with a qcow2 header (magic, version >= 2,
// at least 104 bytes), else "raw". Throws "Could not open 'PATH': ...".
std::string probe_image_format(const std::string& path);

// Throws std::runtime_error with QEMU's texts, e.g.
//   Could not open 'x.qcow2': No such file or directory
//   Image is not in qcow2 format
//   Could not open backing file: Could not open 'base.img': No such file or directory
//   Unknown driver 'vmdk'
std::unique_ptr<AsyncImage> open_image(AioContext& ctx, const ImageOpenOptions& options);

// The path a backing file name means for an overlay: absolute names as
// they are, relative ones from the overlay's folder.
std::string resolve_backing_path(const std::string& overlay, const std::string& backing);

} // namespace kestrel
