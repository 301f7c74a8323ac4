#pragma once
// Reads a fuzzer's input front to back as little-endian integers, byte
// strings and NUL-terminated strings. Past the end every read yields zeros
// (or empty), so a target never has to check lengths; done() says when to
// stop. Reading from the front keeps seed files easy to write by hand
// (tests/fuzz/make_seeds.py).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace kestrel::fuzz {

class ByteReader {
public:
    ByteReader(const uint8_t* data, size_t size) : data_(data, size) {}
    explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

    bool done() const { return pos_ >= data_.size(); }
    size_t remaining() const { return done() ? 0 : data_.size() - pos_; }

    uint8_t u8() { return uint8_t(le(1)); }
    uint16_t u16() { return uint16_t(le(2)); }
    uint32_t u32() { return uint32_t(le(4)); }
    uint64_t u64() { return le(8); }
    bool flag() { return u8() & 1; }

    // Up to `n` bytes (fewer at the end of the input).
    std::span<const uint8_t> bytes(size_t n) {
        n = std::min(n, remaining());
        auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    std::span<const uint8_t> rest() { return bytes(remaining()); }

    // Bytes up to the next NUL (consumed, not returned) or the end.
    std::string cstring() {
        std::string out;
        while (!done()) {
            const uint8_t c = data_[pos_++];
            if (c == 0) break;
            out.push_back(char(c));
        }
        return out;
    }

private:
    uint64_t le(unsigned n) {
        uint64_t v = 0;
        for (unsigned i = 0; i < n && !done(); ++i) v |= uint64_t(data_[pos_++]) << (8 * i);
        return v;
    }

    std::span<const uint8_t> data_;
    size_t pos_ = 0;
};

} // namespace kestrel::fuzz
