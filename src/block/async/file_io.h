#pragma once
// Whole transfers on a file through an AioContext: short reads and writes
// go on where they stopped, bytes past the end of the file read as zeros,
// and a request O_DIRECT refuses (EINVAL: misaligned) is redone on the
// file's buffered descriptor.
#include "block/async/aio_context.h"

#include <cstdint>
#include <sys/uio.h>
#include <vector>

namespace kestrel {

struct AsyncFile {
    int fd = -1;
    int buffered_fd = -1;  // without O_DIRECT; -1 when fd is buffered already
};

// 0 or -errno.
Task<int> file_read(AioContext& ctx, AsyncFile file, uint64_t offset, std::vector<iovec> iov);
Task<int> file_write(AioContext& ctx, AsyncFile file, uint64_t offset, std::vector<iovec> iov);
Task<int> file_read_buf(AioContext& ctx, AsyncFile file, uint64_t offset, void* buf, size_t len);
Task<int> file_write_buf(AioContext& ctx, AsyncFile file, uint64_t offset, const void* buf, size_t len);
Task<int> file_flush(AioContext& ctx, AsyncFile file);
// fallocate with `mode`; 0 or -errno (EOPNOTSUPP when the file system cannot).
Task<int> file_fallocate(AioContext& ctx, AsyncFile file, int mode, uint64_t offset, uint64_t len);

} // namespace kestrel
