#pragma once
// A small synthetic decompressed kernel (an x86-64 ELF with PT_LOAD
// segments, followed by a relocation table in the kernel's format), and
// the compressors that make bzImage payloads of it in each of the kernel's
// compressed formats, for the kernel cache tests.
#include "machine/boot/payload_codecs.h"

#include <bzlib.h>
#include <cstdint>
#include <cstring>
#include <elf.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <stdexcept>
#include <vector>
#include <zlib.h>
#include <zstd.h>

namespace kestrel::test {

constexpr uint64_t LOAD_PHYS = 0x1000000;
constexpr uint64_t KERNEL_MAP = 0xffffffff80000000ull;
// The data segment's last two pages are zeros (as .bss in the file); 6 MiB
// more of .bss (not in the file) span several 2 MiB pages.
constexpr uint64_t TEXT_SIZE = 0x3000, DATA_OFF = 0x4000, DATA_SIZE = 0x3000, DATA_MEM = 0x605000;
constexpr uint64_t DATA_NONZERO = 0x1000;
// Image offsets of the relocated values and what they hold at link time.
constexpr uint32_t R64_AT = 0x100, R32_AT = 0x200, RINV_AT = DATA_OFF + 0x10;
constexpr uint64_t R64_VALUE = KERNEL_MAP + LOAD_PHYS + 0x2000;
constexpr uint32_t R32_VALUE = uint32_t(KERNEL_MAP + LOAD_PHYS + 0x10);
constexpr int32_t RINV_VALUE = 0x1234;

template <typename T> void put(std::vector<uint8_t>& v, size_t off, T x) {
    if (v.size() < off + sizeof x) v.resize(off + sizeof x);
    std::memcpy(v.data() + off, &x, sizeof x);
}
inline void append32(std::vector<uint8_t>& v, uint32_t x) { put(v, v.size(), x); }
inline uint32_t virt32(uint32_t image_off) { return uint32_t(KERNEL_MAP + LOAD_PHYS + image_off); }

// Segment contents: byte i of the image is (i * 13 + 1) & 0xff, except the
// relocated values.
inline uint8_t image_byte(uint64_t i) { return uint8_t(i * 13 + 1); }

inline std::vector<uint8_t> make_vmlinux() {
    const size_t phoff = sizeof(Elf64_Ehdr), text_file = 0x1000;
    const size_t data_file = text_file + TEXT_SIZE;
    std::vector<uint8_t> v(data_file + DATA_SIZE, 0);
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_entry = LOAD_PHYS;
    eh.e_phoff = phoff;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 3;
    eh.e_ehsize = sizeof eh;
    put(v, 0, eh);
    Elf64_Phdr text{PT_LOAD, PF_R | PF_X, text_file, KERNEL_MAP + LOAD_PHYS, LOAD_PHYS,
                    TEXT_SIZE, TEXT_SIZE, 0x200000};
    Elf64_Phdr data{PT_LOAD, PF_R | PF_W, data_file, KERNEL_MAP + LOAD_PHYS + DATA_OFF,
                    LOAD_PHYS + DATA_OFF, DATA_SIZE, DATA_MEM, 0x200000};
    Elf64_Phdr note{PT_NOTE, PF_R, 0, 0, 0, 0, 0, 4};
    put(v, phoff, data);  // out of order on purpose
    put(v, phoff + sizeof(Elf64_Phdr), note);
    put(v, phoff + 2 * sizeof(Elf64_Phdr), text);
    for (uint64_t i = 0; i < TEXT_SIZE; i++) v[text_file + i] = image_byte(i);
    for (uint64_t i = 0; i < DATA_NONZERO; i++) v[data_file + i] = image_byte(DATA_OFF + i);
    put(v, text_file + R64_AT, R64_VALUE);
    put(v, text_file + R32_AT, R32_VALUE);
    put(v, data_file + (RINV_AT - DATA_OFF), RINV_VALUE);
    // The table, read backwards: 32-bit, inverse 32-bit, 64-bit, each ending in 0.
    append32(v, 0);
    append32(v, virt32(R64_AT));
    append32(v, 0);
    append32(v, virt32(RINV_AT));
    append32(v, 0);
    append32(v, virt32(R32_AT));
    return v;
}

inline std::vector<uint8_t> with_size(std::vector<uint8_t> stream, size_t size) {
    append32(stream, uint32_t(size));
    return stream;
}

inline std::vector<uint8_t> gzip(const std::vector<uint8_t>& in) {
    z_stream z{};
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2");
    std::vector<uint8_t> out(deflateBound(&z, uLong(in.size())) + 64);
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = uInt(in.size());
    z.next_out = out.data();
    z.avail_out = uInt(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;  // gzip's own trailer ends in the size
}

inline std::vector<uint8_t> bzip2(const std::vector<uint8_t>& in) {
    std::vector<uint8_t> out(in.size() * 2 + 1024);
    unsigned len = unsigned(out.size());
    if (BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &len,
                                 reinterpret_cast<char*>(const_cast<uint8_t*>(in.data())),
                                 unsigned(in.size()), 9, 0, 0) != BZ_OK)
        throw std::runtime_error("bzip2");
    out.resize(len);
    return with_size(out, in.size());
}

inline std::vector<uint8_t> lzma_format(const std::vector<uint8_t>& in, bool xz) {
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_options_lzma opt;
    lzma_lzma_preset(&opt, 6);
    lzma_filter filters[] = {{LZMA_FILTER_X86, nullptr}, {LZMA_FILTER_LZMA2, &opt},
                             {LZMA_VLI_UNKNOWN, nullptr}};
    lzma_ret rc = xz ? lzma_stream_encoder(&s, filters, LZMA_CHECK_CRC32) : lzma_alone_encoder(&s, &opt);
    if (rc != LZMA_OK) throw std::runtime_error("lzma encoder");
    std::vector<uint8_t> out(in.size() * 2 + 4096);
    s.next_in = in.data();
    s.avail_in = in.size();
    s.next_out = out.data();
    s.avail_out = out.size();
    if (lzma_code(&s, LZMA_FINISH) != LZMA_STREAM_END) throw std::runtime_error("lzma_code");
    out.resize(s.total_out);
    lzma_end(&s);
    return with_size(out, in.size());
}

inline void be32(std::vector<uint8_t>& v, uint32_t x) {
    for (int i = 3; i >= 0; i--) v.push_back(uint8_t(x >> (8 * i)));
}

// lzop's container around LZO1X blocks of 256 KiB, as `lzop -9` writes it.
inline std::vector<uint8_t> lzo(const std::vector<uint8_t>& in) {
    if (lzo_init() != LZO_E_OK) throw std::runtime_error("lzo_init");
    std::vector<uint8_t> out = {0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a};
    const uint8_t rest[] = {0x10, 0x30, 0x20, 0xa0, 0x09, 0x40, 0x01, 0x09};  // versions, method, level
    out.insert(out.end(), rest, rest + sizeof rest);
    be32(out, 1);  // flags: adler32 of the decompressed data
    be32(out, 0x81a4);
    be32(out, 0);  // mtime low
    be32(out, 0);  // mtime high
    out.push_back(0);  // no file name
    be32(out, 0);  // header checksum (not checked by the kernel)
    std::vector<uint8_t> work(LZO1X_1_MEM_COMPRESS), block(256 * 1024 * 2);
    for (size_t off = 0; off < in.size(); off += 256 * 1024) {
        size_t n = std::min<size_t>(256 * 1024, in.size() - off);
        lzo_uint clen = block.size();
        lzo1x_1_compress(in.data() + off, n, block.data(), &clen, work.data());
        bool stored = clen >= n;
        be32(out, uint32_t(n));
        be32(out, uint32_t(stored ? n : clen));
        be32(out, lzo_adler32(1, in.data() + off, n));
        out.insert(out.end(), stored ? in.data() + off : block.data(),
                   (stored ? in.data() + off : block.data()) + (stored ? n : clen));
    }
    be32(out, 0);
    return with_size(out, in.size());
}

inline std::vector<uint8_t> lz4_legacy(const std::vector<uint8_t>& in) {
    std::vector<uint8_t> out;
    append32(out, 0x184c2102);
    std::vector<char> block(size_t(LZ4_compressBound(8 << 20)));
    for (size_t off = 0; off < in.size(); off += 8 << 20) {
        int n = int(std::min<size_t>(8 << 20, in.size() - off));
        int c = LZ4_compress_default(reinterpret_cast<const char*>(in.data() + off), block.data(), n,
                                     int(block.size()));
        append32(out, uint32_t(c));
        out.insert(out.end(), block.begin(), block.begin() + c);
    }
    return with_size(out, in.size());
}

inline std::vector<uint8_t> zstd(const std::vector<uint8_t>& in) {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 19);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);  // as the zstd tool writes
    std::vector<uint8_t> out(ZSTD_compressBound(in.size()));
    size_t n = ZSTD_compress2(c, out.data(), out.size(), in.data(), in.size());
    ZSTD_freeCCtx(c);
    if (ZSTD_isError(n)) throw std::runtime_error("zstd");
    out.resize(n);
    return with_size(out, in.size());
}

inline std::vector<uint8_t> compress(Compression c, const std::vector<uint8_t>& in) {
    switch (c) {
    case Compression::Gzip: return gzip(in);
    case Compression::Bzip2: return bzip2(in);
    case Compression::Lzma: return lzma_format(in, false);
    case Compression::Xz: return lzma_format(in, true);
    case Compression::Lzo: return lzo(in);
    case Compression::Lz4: return lz4_legacy(in);
    case Compression::Zstd: return zstd(in);
    }
    return {};
}

constexpr Compression ALL_COMPRESSIONS[] = {Compression::Gzip, Compression::Bzip2, Compression::Lzma,
                                            Compression::Xz, Compression::Lzo, Compression::Lz4,
                                            Compression::Zstd};

} // namespace kestrel::test
