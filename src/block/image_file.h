#pragma once
// Opening a raw image: a regular file or a host block device, with the open
// flags the cache mode asks for, its size and its I/O alignment.
#include "block/block_backend.h"
#include "base/unique_fd.h"
#include "block/image_lock.h"

#include <cstdint>
#include <string>

namespace kestrel {

struct ImageFile {
    UniqueFd fd;           // the I/O fd, with the cache mode's flags
    // With O_DIRECT: the same file without O_DIRECT, for requests whose
    // buffers or offsets do not meet the direct I/O alignment.
    UniqueFd buffered_fd;
    ImageLock lock;        // declared after the fds: unlocks before they close
    uint64_t size = 0;
    uint32_t logical_block_size = 512;
    uint32_t dio_mem_align = 1;     // 1 when not O_DIRECT
    uint32_t dio_offset_align = 1;
    bool block_device = false;
};

// O_DIRECT for none/directsync, O_DSYNC for writethrough/directsync.
int cache_mode_open_flags(CacheMode cache);

// Throws std::runtime_error with QEMU's texts:
//   Could not open 'PATH': No such file or directory
//   Could not open 'PATH': filesystem does not support O_DIRECT
//   'file' driver requires 'PATH' to be a regular file
ImageFile open_image_file(const std::string& path, bool writable, CacheMode cache);

// Sets dio_mem_align/dio_offset_align for image.fd (opened O_DIRECT).
void probe_dio_alignment(ImageFile& image);

} // namespace kestrel
