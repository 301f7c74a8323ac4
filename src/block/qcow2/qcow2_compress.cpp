// zlib does the work (Debian's zlib1g): hand-written inflate would be
// slower and riskier.
#include "block/qcow2/qcow2_compress.h"

#include <zlib.h>

namespace kestrel::qcow2 {

namespace {

constexpr int kWindowBits = -12;  // raw deflate, 4 KiB window: QEMU's choice

} // namespace

bool decompress_cluster(CompressionType type, std::span<const uint8_t> in, std::span<uint8_t> out) {
    if (type != CompressionType::Zlib) return false;
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

std::optional<std::vector<uint8_t>> compress_cluster(std::span<const uint8_t> cluster) {
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

} // namespace kestrel::qcow2
