#pragma once
// A zero-filled byte buffer aligned for O_DIRECT (4 KiB), for metadata and
// copy-on-write bounce buffers.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <sys/uio.h>
#include <utility>

namespace kestrel {

class Buffer {
public:
    static constexpr size_t kAlign = 4096;

    Buffer() = default;
    explicit Buffer(size_t size) : size_(size) {
        if (size == 0) return;
        size_t rounded = (size + kAlign - 1) & ~(kAlign - 1);
        data_ = static_cast<uint8_t*>(std::aligned_alloc(kAlign, rounded));
        if (!data_) throw std::bad_alloc();
        std::memset(data_, 0, rounded);
    }
    Buffer(Buffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    Buffer& operator=(Buffer&& o) noexcept {
        if (this != &o) {
            std::free(data_);
            data_ = std::exchange(o.data_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { std::free(data_); }

    uint8_t* data() { return data_; }
    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    std::span<uint8_t> span() { return {data_, size_}; }
    std::span<const uint8_t> span() const { return {data_, size_}; }
    iovec iov(size_t offset = 0, size_t len = SIZE_MAX) {
        return {data_ + offset, len == SIZE_MAX ? size_ - offset : len};
    }

private:
    uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

} // namespace kestrel
