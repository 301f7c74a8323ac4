#pragma once
// Decompressors for the compressed vmlinux inside a bzImage, one for each
// compression the kernel's build offers (CONFIG_KERNEL_GZIP ... _ZSTD), on
// Debian's libraries: zlib, libbz2, liblzma (lzma and xz), liblzo2, liblz4,
// libzstd. Each takes the payload in the kernel's own stream format.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>

namespace kestrel {

enum class Compression { Gzip, Bzip2, Lzma, Xz, Lzo, Lz4, Zstd };

// A payload that cannot be decompressed: corrupt, truncated, too large.
class PayloadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The compression named by the payload's first bytes (the magic numbers the
// kernel's decompress.c table knows), or nullopt.
std::optional<Compression> detect_compression(std::span<const uint8_t> payload);
const char* compression_name(Compression c);

// Receives the decompressed bytes in order, a chunk at a time. Returning
// false stops the decompression (decompress() then returns false).
using ChunkSink = std::function<bool(std::span<const uint8_t>)>;

// Decompresses the payload as the kernel's build writes it (one compressed
// stream, then the decompressed size as 32-bit little-endian: appended by
// the build, or gzip's own trailer) into `sink`; bytes after the end of the
// stream are not read, except that LZ4's legacy format, which has no end
// marker, ends 4 bytes before the payload's end. Throws PayloadError when
// the stream is corrupt or truncated, or would give more than `max_out`
// bytes. Returns false if the sink stopped it.
bool decompress(Compression c, std::span<const uint8_t> payload, uint64_t max_out,
                const ChunkSink& sink);

// The same into `out` (at most its size: more throws); returns the bytes
// written. xz and lzma decode straight into it.
size_t decompress_into(Compression c, std::span<const uint8_t> payload, std::span<uint8_t> out);

} // namespace kestrel
