#include "machine/boot/payload_codecs.h"

#include <bzlib.h>
#include <cstring>
#include <fmt/format.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <memory>
#include <vector>
#include <zlib.h>
#include <zstd.h>

namespace kestrel {
namespace {

constexpr size_t CHUNK = 1 << 20;
constexpr size_t LZ4_BLOCK = 8 << 20;    // the kernel's LZ4 (legacy format) block size
constexpr size_t LZO_BLOCK = 256 << 10;  // the kernel's unlzo block limit
// The decoders' memory is what the stream's header asks for (the .lzma
// and .xz dictionary, the zstd window), up to 4 GiB from a few bytes.
// Kernels are built with far less: xz's 32 MiB dictionary, lzma -9's 64
// MiB, zstd -22's 128 MiB window.
constexpr uint64_t LZMA_MEMLIMIT = 256 << 20;
constexpr int ZSTD_WINDOW_LOG_MAX = 27;

[[noreturn]] void corrupt(Compression c, const std::string& why) {
    throw PayloadError(fmt::format("{} data is corrupt: {}", compression_name(c), why));
}

// Counts the output against the limit and forwards it to the sink.
class Output {
public:
    Output(Compression c, uint64_t max, const ChunkSink& sink) : c_(c), max_(max), sink_(sink) {}
    bool put(const uint8_t* p, size_t n) {
        if (n == 0) return true;
        total_ += n;
        if (total_ > max_)
            throw PayloadError(fmt::format("{} data decompresses to more than {} bytes",
                                           compression_name(c_), max_));
        return sink_({p, n});
    }

private:
    Compression c_;
    uint64_t max_;
    uint64_t total_ = 0;
    const ChunkSink& sink_;
};

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
uint32_t le32(const uint8_t* p) { return uint32_t(p[3]) << 24 | p[2] << 16 | p[1] << 8 | p[0]; }

bool gunzip(std::span<const uint8_t> in, Output& out) {
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw PayloadError("zlib: out of memory");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
    std::vector<uint8_t> buf(CHUNK);
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = uInt(in.size());
    for (;;) {
        z.next_out = buf.data();
        z.avail_out = uInt(buf.size());
        int rc = inflate(&z, Z_NO_FLUSH);
        if (rc == Z_BUF_ERROR) corrupt(Compression::Gzip, "truncated");  // no progress possible
        if (rc != Z_OK && rc != Z_STREAM_END)
            corrupt(Compression::Gzip, z.msg ? z.msg : "inflate failed");
        if (!out.put(buf.data(), buf.size() - z.avail_out)) return false;
        if (rc == Z_STREAM_END) return true;
    }
}

bool bunzip2(std::span<const uint8_t> in, Output& out) {
    bz_stream b{};
    if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK) throw PayloadError("bzip2: out of memory");
    std::unique_ptr<bz_stream, int (*)(bz_stream*)> guard(&b, BZ2_bzDecompressEnd);
    std::vector<uint8_t> buf(CHUNK);
    b.next_in = reinterpret_cast<char*>(const_cast<uint8_t*>(in.data()));
    b.avail_in = unsigned(in.size());
    for (;;) {
        b.next_out = reinterpret_cast<char*>(buf.data());
        b.avail_out = unsigned(buf.size());
        int rc = BZ2_bzDecompress(&b);
        if (rc != BZ_OK && rc != BZ_STREAM_END) corrupt(Compression::Bzip2, fmt::format("error {}", rc));
        size_t got = buf.size() - b.avail_out;
        if (!out.put(buf.data(), got)) return false;
        if (rc == BZ_STREAM_END) return true;
        if (got == 0) corrupt(Compression::Bzip2, "truncated");  // all input used, no end
    }
}

const char* lzma_error(lzma_ret rc) {
    switch (rc) {
    case LZMA_FORMAT_ERROR: return "not in the expected format";
    case LZMA_DATA_ERROR: return "data error";
    case LZMA_BUF_ERROR: return "truncated";
    case LZMA_OPTIONS_ERROR: return "unsupported options";
    case LZMA_MEM_ERROR: return "out of memory";
    case LZMA_MEMLIMIT_ERROR: return "dictionary larger than any kernel's";
    default: return "decoder error";
    }
}

// xz (.xz container, the kernel's CRC32 check and BCJ filter) and the
// legacy .lzma format.
using LzmaDecoder = std::unique_ptr<lzma_stream, void (*)(lzma_stream*)>;

LzmaDecoder open_lzma(Compression c, lzma_stream& s) {
    s = LZMA_STREAM_INIT;
    lzma_ret rc = c == Compression::Xz ? lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0)
                                       : lzma_alone_decoder(&s, LZMA_MEMLIMIT);
    if (rc != LZMA_OK) throw PayloadError(fmt::format("{}: {}", compression_name(c), lzma_error(rc)));
    return LzmaDecoder(&s, lzma_end);
}

bool unlzma(Compression c, std::span<const uint8_t> in, Output& out) {
    lzma_stream s;
    LzmaDecoder guard = open_lzma(c, s);
    lzma_ret rc;
    std::vector<uint8_t> buf(CHUNK);
    s.next_in = in.data();
    s.avail_in = in.size();
    for (;;) {
        s.next_out = buf.data();
        s.avail_out = buf.size();
        rc = lzma_code(&s, LZMA_FINISH);
        if (rc != LZMA_OK && rc != LZMA_STREAM_END) corrupt(c, lzma_error(rc));
        if (!out.put(buf.data(), buf.size() - s.avail_out)) return false;
        if (rc == LZMA_STREAM_END) return true;
    }
}

// Straight into `out`: no chunk buffer to copy from (in the nested test
// host a copy of a kernel's 65 MB is a good part of a second).
size_t unlzma_into(Compression c, std::span<const uint8_t> in, std::span<uint8_t> out) {
    lzma_stream s;
    LzmaDecoder guard = open_lzma(c, s);
    s.next_in = in.data();
    s.avail_in = in.size();
    s.next_out = out.data();
    s.avail_out = out.size();
    for (;;) {
        lzma_ret rc = lzma_code(&s, LZMA_FINISH);
        if (rc == LZMA_STREAM_END) return out.size() - s.avail_out;
        if (rc == LZMA_OK) continue;  // progress made
        if (rc == LZMA_BUF_ERROR && s.avail_out == 0)
            throw PayloadError(fmt::format("{} data decompresses to more than {} bytes",
                                           compression_name(c), out.size()));
        corrupt(c, lzma_error(rc));
    }
}

bool unzstd(std::span<const uint8_t> in, Output& out) {
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!d) throw PayloadError("zstd: out of memory");
    ZSTD_DCtx_setParameter(d.get(), ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX);
    std::vector<uint8_t> buf(CHUNK);
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    for (;;) {
        ZSTD_outBuffer dst{buf.data(), buf.size(), 0};
        size_t rc = ZSTD_decompressStream(d.get(), &dst, &src);
        if (ZSTD_isError(rc)) corrupt(Compression::Zstd, ZSTD_getErrorName(rc));
        if (!out.put(buf.data(), dst.pos)) return false;
        if (rc == 0) return true;  // a frame ended; the kernel's payload is one frame
        if (src.pos == src.size && dst.pos < dst.size) corrupt(Compression::Zstd, "truncated");
    }
}

// The legacy LZ4 format of `lz4 -l`: a magic number, then blocks of a
// 32-bit little-endian compressed size and data, 8 MiB each decompressed.
bool unlz4(std::span<const uint8_t> payload, Output& out) {
    constexpr uint32_t MAGIC = 0x184c2102;
    if (payload.size() < 4) corrupt(Compression::Lz4, "truncated");
    auto in = payload.first(payload.size() - 4);  // no end marker: the size the build appended ends it
    std::vector<uint8_t> buf(LZ4_BLOCK);
    size_t pos = 0;
    while (pos < in.size()) {
        if (in.size() - pos < 4) corrupt(Compression::Lz4, "truncated block header");
        uint32_t n = le32(in.data() + pos);
        pos += 4;
        if (n == MAGIC) continue;
        if (n > in.size() - pos) corrupt(Compression::Lz4, "truncated block");
        if (n > uint32_t(LZ4_compressBound(int(LZ4_BLOCK)))) corrupt(Compression::Lz4, "block too large");
        int got = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + pos),
                                      reinterpret_cast<char*>(buf.data()), int(n), int(buf.size()));
        if (got < 0) corrupt(Compression::Lz4, "bad block");
        if (!out.put(buf.data(), size_t(got))) return false;
        pos += n;
    }
    return true;
}

// The lzop container as the kernel reads it: header, then blocks of
// decompressed size, compressed size and one checksum word (all big-endian),
// a zero size at the end.
size_t lzop_header_size(std::span<const uint8_t> in) {
    static const uint8_t magic[9] = {0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a};
    constexpr uint32_t HAS_FILTER = 0x800;
    auto need = [&](size_t n) { if (in.size() < n) corrupt(Compression::Lzo, "truncated header"); };
    need(9 + 7);
    if (std::memcmp(in.data(), magic, 9) != 0) corrupt(Compression::Lzo, "bad magic");
    uint16_t version = uint16_t(in[9] << 8 | in[10]);
    size_t pos = 9 + 7 + (version >= 0x0940 ? 1 : 0);
    need(pos + 4);
    pos += (be32(in.data() + pos) & HAS_FILTER) ? 8 : 4;
    pos += 8 + (version >= 0x0940 ? 4 : 0);  // mode, mtime
    need(pos + 1);
    pos += 1 + in[pos] + 4;                  // file name, header checksum
    need(pos);
    return pos;
}

bool unlzo(std::span<const uint8_t> in, Output& out) {
    static const bool ready = lzo_init() == LZO_E_OK;
    if (!ready) throw PayloadError("lzo: library initialization failed");
    std::vector<uint8_t> buf(LZO_BLOCK);
    size_t pos = lzop_header_size(in);
    for (;;) {
        if (in.size() - pos < 4) corrupt(Compression::Lzo, "truncated block header");
        uint32_t dst_len = be32(in.data() + pos);
        pos += 4;
        if (dst_len == 0) return true;
        if (dst_len > LZO_BLOCK) corrupt(Compression::Lzo, "block too large");
        if (in.size() - pos < 8) corrupt(Compression::Lzo, "truncated block header");
        uint32_t src_len = be32(in.data() + pos);
        pos += 8;
        if (src_len == 0 || src_len > dst_len || src_len > in.size() - pos)
            corrupt(Compression::Lzo, "bad block size");
        const uint8_t* src = in.data() + pos;
        if (src_len == dst_len) {
            std::memcpy(buf.data(), src, dst_len);
        } else {
            lzo_uint got = dst_len;
            if (lzo1x_decompress_safe(src, src_len, buf.data(), &got, nullptr) != LZO_E_OK ||
                got != dst_len)
                corrupt(Compression::Lzo, "bad block");
        }
        if (!out.put(buf.data(), dst_len)) return false;
        pos += src_len;
    }
}

} // namespace

std::optional<Compression> detect_compression(std::span<const uint8_t> p) {
    auto starts = [&](std::initializer_list<uint8_t> m) {
        return p.size() >= m.size() && std::equal(m.begin(), m.end(), p.begin());
    };
    if (starts({0x1f, 0x8b})) return Compression::Gzip;
    if (starts({'B', 'Z', 'h'})) return Compression::Bzip2;
    if (starts({0x5d, 0x00, 0x00})) return Compression::Lzma;
    if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return Compression::Xz;
    if (starts({0x89, 'L', 'Z', 'O', 0x00})) return Compression::Lzo;
    if (starts({0x02, 0x21, 0x4c, 0x18})) return Compression::Lz4;
    if (starts({0x28, 0xb5, 0x2f, 0xfd})) return Compression::Zstd;
    return std::nullopt;
}

const char* compression_name(Compression c) {
    switch (c) {
    case Compression::Gzip: return "gzip";
    case Compression::Bzip2: return "bzip2";
    case Compression::Lzma: return "lzma";
    case Compression::Xz: return "xz";
    case Compression::Lzo: return "lzo";
    case Compression::Lz4: return "lz4";
    case Compression::Zstd: return "zstd";
    }
    return "?";
}

bool decompress(Compression c, std::span<const uint8_t> input, uint64_t max_out,
                const ChunkSink& sink) {
    Output out(c, max_out, sink);
    switch (c) {
    case Compression::Gzip: return gunzip(input, out);
    case Compression::Bzip2: return bunzip2(input, out);
    case Compression::Lzma:
    case Compression::Xz: return unlzma(c, input, out);
    case Compression::Lzo: return unlzo(input, out);
    case Compression::Lz4: return unlz4(input, out);
    case Compression::Zstd: return unzstd(input, out);
    }
    return false;
}

size_t decompress_into(Compression c, std::span<const uint8_t> input, std::span<uint8_t> out) {
    if (c == Compression::Xz || c == Compression::Lzma) return unlzma_into(c, input, out);
    size_t at = 0;
    decompress(c, input, out.size(), [&](std::span<const uint8_t> chunk) {
        std::memcpy(out.data() + at, chunk.data(), chunk.size());  // Output keeps the total within out
        at += chunk.size();
        return true;
    });
    return at;
}

} // namespace kestrel
