#pragma once
// Scatter-gather lists (guest memory, bounce buffers): sizes, slices,
// zeroing and copying.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <sys/uio.h>
#include <vector>

namespace kestrel {

inline uint64_t iov_size(std::span<const iovec> iov) {
    uint64_t n = 0;
    for (const iovec& v : iov) n += v.iov_len;
    return n;
}

// The bytes [offset, offset + len) of iov as a list of its own.
inline std::vector<iovec> iov_slice(std::span<const iovec> iov, uint64_t offset, uint64_t len) {
    std::vector<iovec> out;
    for (const iovec& v : iov) {
        if (len == 0) break;
        if (offset >= v.iov_len) {
            offset -= v.iov_len;
            continue;
        }
        size_t take = size_t(std::min<uint64_t>(v.iov_len - offset, len));
        out.push_back({static_cast<uint8_t*>(v.iov_base) + offset, take});
        len -= take;
        offset = 0;
    }
    return out;
}

inline void iov_zero(std::span<const iovec> iov) {
    for (const iovec& v : iov) std::memset(v.iov_base, 0, v.iov_len);
}

// Copies src into iov (as far as both reach); returns the bytes copied.
inline size_t iov_from_buf(std::span<const iovec> iov, const uint8_t* src, size_t len) {
    size_t done = 0;
    for (const iovec& v : iov) {
        if (done == len) break;
        size_t n = std::min(v.iov_len, len - done);
        std::memcpy(v.iov_base, src + done, n);
        done += n;
    }
    return done;
}

inline size_t iov_to_buf(std::span<const iovec> iov, uint8_t* dst, size_t len) {
    size_t done = 0;
    for (const iovec& v : iov) {
        if (done == len) break;
        size_t n = std::min(v.iov_len, len - done);
        std::memcpy(dst + done, v.iov_base, n);
        done += n;
    }
    return done;
}

inline bool buffer_is_zero(const void* data, size_t len) {
    auto* p = static_cast<const uint8_t*>(data);
    return len == 0 || (p[0] == 0 && std::memcmp(p, p + 1, len - 1) == 0);
}

inline bool iov_is_zero(std::span<const iovec> iov) {
    for (const iovec& v : iov)
        if (!buffer_is_zero(v.iov_base, v.iov_len)) return false;
    return true;
}

// Read-only zeros for writing zero ranges (1 MiB, 4 KiB aligned).
const uint8_t* zero_page_buffer();
constexpr size_t kZeroBufferSize = 1 << 20;

// iovecs of zeros covering len bytes.
inline void append_zero_iov(std::vector<iovec>& out, uint64_t len) {
    while (len > 0) {
        size_t n = size_t(std::min<uint64_t>(len, kZeroBufferSize));
        out.push_back({const_cast<uint8_t*>(zero_page_buffer()), n});
        len -= n;
    }
}

} // namespace kestrel
