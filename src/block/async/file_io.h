#pragma once
// Whole transfers on a file through an AioContext: short reads and writes
// go on where they stopped, bytes past the end of the file read as zeros,
// and a request O_DIRECT refuses (EINVAL: misaligned) is redone on the
// file's buffered descriptor.
#include "block/async/aio_context.h"

#include "base/unique_fd.h"

#include <cstdint>
#include <memory>
#include <sys/uio.h>
#include <vector>

namespace kestrel {

// A second descriptor of a buffered file, with O_DIRECT, for bulk copies
// (kestrel-img convert): while fewer than `depth` writes use it, the next
// large aligned data write goes straight to the device instead of through
// the page cache. The device's transfer then runs beside the CPU's page-cache
// copies of the other writes, and the lane takes only as many writes as the
// device keeps up with. The data is no less durable than buffered writes:
// a flush (fdatasync on either descriptor) covers both.
struct DirectLane {
    static constexpr uint64_t kMinBytes = 64 << 10;
    static constexpr uint64_t kAlign = 4096;  // any logical block size up to 4 KiB
    UniqueFd fd;
    unsigned depth = 1;
    unsigned in_flight = 0;
};

// nullptr where the file system refuses O_DIRECT.
std::unique_ptr<DirectLane> open_direct_lane(int buffered_fd, unsigned depth);

struct AsyncFile {
    int fd = -1;
    int buffered_fd = -1;  // without O_DIRECT; -1 when fd is buffered already
    DirectLane* lane = nullptr;  // file_write only (data, never metadata)
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
