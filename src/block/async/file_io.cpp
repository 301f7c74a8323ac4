#include "block/async/file_io.h"

#include "block/async/iov.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <string>

namespace kestrel {

namespace {

// Drops `bytes` from the front of iov.
void advance(std::vector<iovec>& iov, size_t& first, uint64_t bytes) {
    while (bytes > 0 && first < iov.size()) {
        iovec& v = iov[first];
        uint64_t take = std::min<uint64_t>(bytes, v.iov_len);
        v.iov_base = static_cast<uint8_t*>(v.iov_base) + take;
        v.iov_len -= take;
        bytes -= take;
        if (v.iov_len == 0) first++;
    }
    while (first < iov.size() && iov[first].iov_len == 0) first++;
}

bool lane_fits(const DirectLane& lane, uint64_t offset, const std::vector<iovec>& iov) {
    if (lane.in_flight >= lane.depth || offset % DirectLane::kAlign) return false;
    uint64_t total = 0;
    for (const iovec& v : iov) {
        if (reinterpret_cast<uintptr_t>(v.iov_base) % DirectLane::kAlign || v.iov_len % DirectLane::kAlign) return false;
        total += v.iov_len;
    }
    return total >= DirectLane::kMinBytes;
}

// Holds a place in the lane for one write.
struct LaneSlot {
    DirectLane* lane = nullptr;
    explicit LaneSlot(DirectLane* l) : lane(l) { lane->in_flight++; }
    LaneSlot(const LaneSlot&) = delete;
    LaneSlot& operator=(const LaneSlot&) = delete;
    ~LaneSlot() { lane->in_flight--; }
};

Task<int> transfer(AioContext& ctx, AsyncFile file, uint64_t offset, std::vector<iovec> iov, bool write) {
    size_t first = 0;
    while (first < iov.size() && iov[first].iov_len == 0) first++;
    int fd = file.fd;
    std::optional<LaneSlot> slot;
    if (write && file.lane && file.buffered_fd < 0 && lane_fits(*file.lane, offset, iov)) {
        slot.emplace(file.lane);
        file.buffered_fd = file.fd;  // where a refused O_DIRECT request is redone
        fd = file.lane->fd.get();
    }
    while (first < iov.size()) {
        unsigned count = unsigned(iov.size() - first);
        int res;
        if (write)
            res = co_await ctx.writev(fd, &iov[first], count, offset);
        else
            res = co_await ctx.readv(fd, &iov[first], count, offset);
        if (res == -EINVAL && file.buffered_fd >= 0 && fd != file.buffered_fd) {
            fd = file.buffered_fd;
            continue;
        }
        if (res < 0) co_return res;
        if (res == 0) {
            if (write) co_return -ENOSPC;
            iov_zero(std::span<const iovec>(iov).subspan(first));  // past the end of the file
            co_return 0;
        }
        offset += uint64_t(res);
        advance(iov, first, uint64_t(res));
    }
    co_return 0;
}

} // namespace

std::unique_ptr<DirectLane> open_direct_lane(int buffered_fd, unsigned depth) {
    std::string self = "/proc/self/fd/" + std::to_string(buffered_fd);
    int flags = ::fcntl(buffered_fd, F_GETFL);
    if (flags < 0) return nullptr;
    // Writethrough (O_DSYNC) stays so: a lane write is durable when it completes, as the others are.
    UniqueFd fd(::open(self.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC | (flags & (O_DSYNC | O_SYNC))));
    if (!fd) return nullptr;
    auto lane = std::make_unique<DirectLane>();
    lane->fd = std::move(fd);
    lane->depth = depth;
    return lane;
}

const uint8_t* zero_page_buffer() {
    static const uint8_t* const buffer = [] {
        void* p = std::aligned_alloc(4096, kZeroBufferSize);
        std::memset(p, 0, kZeroBufferSize);
        return static_cast<const uint8_t*>(p);
    }();
    return buffer;
}

Task<int> file_read(AioContext& ctx, AsyncFile file, uint64_t offset, std::vector<iovec> iov) {
    return transfer(ctx, file, offset, std::move(iov), false);
}

Task<int> file_write(AioContext& ctx, AsyncFile file, uint64_t offset, std::vector<iovec> iov) {
    return transfer(ctx, file, offset, std::move(iov), true);
}

Task<int> file_read_buf(AioContext& ctx, AsyncFile file, uint64_t offset, void* buf, size_t len) {
    std::vector<iovec> iov{{buf, len}};
    return transfer(ctx, file, offset, std::move(iov), false);
}

Task<int> file_write_buf(AioContext& ctx, AsyncFile file, uint64_t offset, const void* buf, size_t len) {
    file.lane = nullptr;  // metadata: small, rewritten, read back
    std::vector<iovec> iov{{const_cast<void*>(buf), len}};
    return transfer(ctx, file, offset, std::move(iov), true);
}

Task<int> file_flush(AioContext& ctx, AsyncFile file) {
    int res;
    do {
        res = co_await ctx.fdatasync(file.fd);
    } while (res == -EINTR);
    co_return res;
}

Task<int> file_fallocate(AioContext& ctx, AsyncFile file, int mode, uint64_t offset, uint64_t len) {
    int fd = file.buffered_fd >= 0 ? file.buffered_fd : file.fd;
    co_return co_await ctx.fallocate(fd, mode, offset, len);
}

} // namespace kestrel
