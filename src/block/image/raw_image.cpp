#include "block/image/raw_image.h"

#include "block/async/file_io.h"
#include "block/async/iov.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel {

namespace {

bool unsupported(int res) { return res == -EOPNOTSUPP || res == -ENOTSUP || res == -EINVAL; }

} // namespace

RawImage::RawImage(AioContext& ctx, std::string filename, ImageFile file, bool read_only, bool discard_unmap,
                   CacheMode cache)
    : ctx_(ctx), filename_(std::move(filename)), file_(std::move(file)), read_only_(read_only),
      discard_unmap_(discard_unmap), cache_(cache) {}

AsyncFile RawImage::io() const {
    return {file_.fd.get(), file_.buffered_fd ? file_.buffered_fd.get() : -1, lane_.get()};
}

bool RawImage::enable_direct_lane(unsigned depth) {
    if (read_only_ || file_.buffered_fd || file_.block_device) return false;
    lane_ = open_direct_lane(file_.fd.get(), depth);
    return lane_ != nullptr;
}

uint64_t RawImage::allocated_bytes() const {
    struct stat st {};
    if (fstat(file_.fd.get(), &st) != 0) return 0;
    return uint64_t(st.st_blocks) * 512;
}

Task<int> RawImage::read(uint64_t offset, std::vector<iovec> iov) {
    return file_read(ctx_, io(), offset, std::move(iov));
}

Task<int> RawImage::write(uint64_t offset, std::vector<iovec> iov) {
    if (read_only_) co_return -EBADF;
    co_return co_await file_write(ctx_, io(), offset, std::move(iov));
}

Task<int> RawImage::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) {
    if (read_only_) co_return -EBADF;
    if (length == 0) co_return 0;
    int res = -EOPNOTSUPP;
    if (may_unmap && discard_unmap_)
        res = co_await file_fallocate(ctx_, io(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
    if (res < 0 && !file_.block_device)
        res = co_await file_fallocate(ctx_, io(), FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, length);
    if (res == 0 || !unsupported(res)) co_return res;
    while (length > 0) {  // no fallocate here: write the zeros
        uint64_t n = std::min<uint64_t>(length, 64 * kZeroBufferSize);
        std::vector<iovec> zeros;
        append_zero_iov(zeros, n);
        res = co_await file_write(ctx_, io(), offset, std::move(zeros));
        if (res < 0) co_return res;
        offset += n;
        length -= n;
    }
    co_return 0;
}

Task<int> RawImage::discard(uint64_t offset, uint64_t length) {
    if (read_only_) co_return -EBADF;
    if (!discard_unmap_ || length == 0) co_return 0;
    int res = co_await file_fallocate(ctx_, io(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
    co_return unsupported(res) ? 0 : res;  // discard is advisory, as in QEMU
}

Task<int> RawImage::flush() {
    if (read_only_ || cache_ == CacheMode::Unsafe) co_return 0;
    co_return co_await file_flush(ctx_, io());
}

// SEEK_DATA/SEEK_HOLE; a file system without them is all data.
Task<BlockStatus> RawImage::block_status(uint64_t offset, uint64_t max_length) {
    BlockStatus st;
    st.kind = BlockStatus::Data;
    st.length = max_length;
    st.has_offset = true;
    st.host_offset = offset;
    int fd = file_.fd.get();
    if (file_.block_device) co_return st;
    off_t data = lseek(fd, off_t(offset), SEEK_DATA);
    if (data < 0 && errno == ENXIO) {  // only a hole from here to the end
        st.kind = BlockStatus::Zero;
        co_return st;
    }
    if (data < 0) co_return st;
    if (uint64_t(data) > offset) {
        st.kind = BlockStatus::Zero;
        st.length = std::min<uint64_t>(max_length, uint64_t(data) - offset);
        co_return st;
    }
    off_t hole = lseek(fd, off_t(offset), SEEK_HOLE);
    if (hole > off_t(offset)) st.length = std::min<uint64_t>(max_length, uint64_t(hole) - offset);
    co_return st;
}

int RawImage::truncate(uint64_t size) {
    if (ftruncate(file_.fd.get(), off_t(size)) != 0) return -errno;
    file_.size = size;
    return 0;
}

} // namespace kestrel
