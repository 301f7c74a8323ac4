// zlib and zstd do the work (Debian's zlib1g and libzstd): hand-written
// decoders would be slower and riskier.
#include "block/qcow2/qcow2_compress.h"

#include <memory>
#include <zlib.h>
#include <zstd.h>

namespace kestrel::qcow2 {

namespace {

constexpr int kWindowBits = -12;  // raw deflate, 4 KiB window: QEMU's choice

bool inflate_cluster(std::span<const uint8_t> in, std::span<uint8_t> out) {
    z_stream s{};
    if (inflateInit2(&s, kWindowBits) != Z_OK) return false;
    s.next_in = const_cast<Bytef*>(in.data());
    s.avail_in = uInt(in.size());
    s.next_out = out.data();
    s.avail_out = uInt(out.size());
    int r = inflate(&s, Z_FINISH);
    bool whole = s.avail_out == 0 && (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK);
    inflateEnd(&s);
    return whole;
}

// The stored size is rounded up to sectors, so the input may go on past
// the data (and the data may be several frames, as QEMU reads it): decode
// until the cluster is full, and fail when a step makes no progress or the
// last frame does not end there.
bool unzstd_cluster(std::span<const uint8_t> in, std::span<uint8_t> out) {
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!d) return false;
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    ZSTD_outBuffer dst{out.data(), out.size(), 0};
    size_t r = 0;
    while (dst.pos < dst.size) {
        const size_t in_before = src.pos, out_before = dst.pos;
        r = ZSTD_decompressStream(d.get(), &dst, &src);
        if (ZSTD_isError(r) || (src.pos == in_before && dst.pos == out_before)) return false;
    }
    return r == 0;
}

std::optional<std::vector<uint8_t>> deflate_cluster(std::span<const uint8_t> cluster) {
    z_stream s{};
    if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kWindowBits, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return std::nullopt;
    std::vector<uint8_t> out(cluster.size());
    s.next_in = const_cast<Bytef*>(cluster.data());
    s.avail_in = uInt(cluster.size());
    s.next_out = out.data();
    s.avail_out = uInt(out.size() - 1);  // must end up smaller than the cluster
    int r = deflate(&s, Z_FINISH);
    size_t produced = out.size() - 1 - s.avail_out;
    deflateEnd(&s);
    if (r != Z_STREAM_END) return std::nullopt;
    out.resize(produced);
    return out;
}

// One frame, as QEMU writes it.
std::optional<std::vector<uint8_t>> zstd_cluster(std::span<const uint8_t> cluster) {
    std::vector<uint8_t> out(cluster.size() - 1);  // must end up smaller than the cluster
    size_t n = ZSTD_compress(out.data(), out.size(), cluster.data(), cluster.size(), ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n)) return std::nullopt;
    out.resize(n);
    return out;
}

} // namespace

bool decompress_cluster(CompressionType type, std::span<const uint8_t> in, std::span<uint8_t> out) {
    switch (type) {
    case CompressionType::Zlib: return inflate_cluster(in, out);
    case CompressionType::Zstd: return unzstd_cluster(in, out);
    }
    return false;
}

std::optional<std::vector<uint8_t>> compress_cluster(CompressionType type, std::span<const uint8_t> cluster) {
    if (cluster.size() < 2) return std::nullopt;
    return type == CompressionType::Zstd ? zstd_cluster(cluster) : deflate_cluster(cluster);
}

} // namespace kestrel::qcow2
