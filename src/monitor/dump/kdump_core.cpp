#include "monitor/dump/kdump_core.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <endian.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <span>
#include <unistd.h>
#include <zlib.h>

namespace kestrel {

namespace {

constexpr uint64_t kPage = 4096;                 // x86's page: block_size and the bitmaps' unit
constexpr size_t kFlatHeaderSize = 4096;
constexpr size_t kSubHeaderSize = 104;           // struct kdump_sub_header, 64-bit
constexpr size_t kDiskHeaderSize = 464;          // struct disk_dump_header, 64-bit
constexpr size_t kDescSize = 24;                 // struct page_desc
constexpr size_t kCacheSize = 4 * kPage;         // one record at most, as QEMU's write cache
constexpr uint64_t kReadChunk = 1 << 20;
constexpr uint32_t kHeaderVersion = 6, kDumpLevel = 1;
constexpr size_t kUtsField = 65;                 // struct new_utsname's fields

uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

template <typename T> void poke(std::vector<uint8_t>& b, size_t at, T v) { std::memcpy(b.data() + at, &v, sizeof v); }

bool write_full(int fd, const uint8_t* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// makedumpfile's flattened stream: each piece of the file as a record.
class FlatWriter {
public:
    explicit FlatWriter(int fd) : fd_(fd) {}
    bool start() {
        std::vector<uint8_t> h(kFlatHeaderSize);
        std::memcpy(h.data(), "makedumpfile", 12);
        poke(h, 16, htobe64(1));   // type: flat header
        poke(h, 24, htobe64(1));   // version
        return write_full(fd_, h.data(), h.size());
    }
    bool record(uint64_t offset, const uint8_t* data, size_t size) {
        const uint64_t head[2] = {htobe64(offset), htobe64(size)};
        return write_full(fd_, reinterpret_cast<const uint8_t*>(head), sizeof head) && write_full(fd_, data, size);
    }
    bool end() {
        const uint64_t head[2] = {~uint64_t(0), ~uint64_t(0)};
        return write_full(fd_, reinterpret_cast<const uint8_t*>(head), sizeof head);
    }

private:
    int fd_;
};

// A region of the file filled in order, a record each time the cache is full.
class RecordCache {
public:
    RecordCache(FlatWriter& out, uint64_t offset) : out_(out), offset_(offset) { buf_.reserve(kCacheSize); }
    bool add(const uint8_t* p, size_t n) {
        if (buf_.size() + n > kCacheSize && !flush()) return false;
        buf_.insert(buf_.end(), p, p + n);
        return true;
    }
    bool flush() {
        if (buf_.empty()) return true;
        if (!out_.record(offset_, buf_.data(), buf_.size())) return false;
        offset_ += buf_.size();
        buf_.clear();
        return true;
    }

private:
    FlatWriter& out_;
    uint64_t offset_;
    std::vector<uint8_t> buf_;
};

struct Layout {
    uint64_t max_mapnr = 0;      // the pfn after the last block
    uint64_t bitmap_len = 0;     // bytes of each bitmap, whole pages
    uint64_t sub_hdr_blocks = 0, bitmap_blocks = 0, pages = 0;
    uint64_t note_at = 0, bitmap_at = 0, desc_at = 0, data_at = 0;
};

Layout layout_of(const KdumpJob& job) {
    Layout l;
    if (!job.blocks.empty()) l.max_mapnr = (job.blocks.back().gpa + job.blocks.back().size) / kPage;
    l.bitmap_len = div_up(div_up(l.max_mapnr, 8), kPage) * kPage;
    l.sub_hdr_blocks = div_up(kSubHeaderSize + job.notes.size(), kPage);
    l.bitmap_blocks = div_up(l.bitmap_len, kPage) * 2;
    for (const RamBlock& b : job.blocks) l.pages += b.size / kPage;
    l.note_at = kPage + kSubHeaderSize;
    l.bitmap_at = (1 + l.sub_hdr_blocks) * kPage;
    l.desc_at = l.bitmap_at + l.bitmap_blocks * kPage;
    l.data_at = l.desc_at + kDescSize * l.pages;
    return l;
}

std::vector<uint8_t> disk_header(const KdumpJob& job, const Layout& l) {
    std::vector<uint8_t> h(kDiskHeaderSize);
    std::memcpy(h.data(), "KDUMP   ", 8);
    poke(h, 8, kHeaderVersion);
    std::memcpy(h.data() + 12 + 4 * kUtsField, "x86_64", 6);   // utsname.machine; the rest stays empty
    poke(h, 424, job.compression);                           // status
    poke(h, 428, static_cast<uint32_t>(kPage));              // block_size
    poke(h, 432, static_cast<uint32_t>(l.sub_hdr_blocks));
    poke(h, 436, static_cast<uint32_t>(l.bitmap_blocks));
    poke(h, 440, static_cast<uint32_t>(std::min<uint64_t>(l.max_mapnr, UINT32_MAX)));
    poke(h, 460, job.nr_cpus);
    return h;
}

std::vector<uint8_t> sub_header(const KdumpJob& job, const Layout& l) {
    std::vector<uint8_t> h(kSubHeaderSize);
    poke(h, 8, kDumpLevel);            // phys_base (0) before it
    poke(h, 48, l.note_at);            // offset_note
    poke(h, 56, uint64_t(job.notes.size()));
    poke(h, 96, l.max_mapnr);          // max_mapnr_64
    return h;
}

// Both bitmaps are the same (dump level 1): a bit for each page dumped.
std::vector<uint8_t> bitmap(const KdumpJob& job, const Layout& l) {
    std::vector<uint8_t> bits(l.bitmap_len);
    for (const RamBlock& b : job.blocks)
        for (uint64_t pfn = b.gpa / kPage; pfn < (b.gpa + b.size) / kPage; pfn++)
            bits[pfn / 8] |= static_cast<uint8_t>(1u << (pfn % 8));
    return bits;
}

std::string write_headers(FlatWriter& out, const KdumpJob& job, const Layout& l) {
    if (!out.start()) return "dump: failed to write start flat header";
    std::vector<uint8_t> h = disk_header(job, l);
    if (!out.record(0, h.data(), h.size())) return "dump: failed to write disk dump header";
    h = sub_header(job, l);
    if (!out.record(kPage, h.data(), h.size())) return "dump: failed to write kdump sub header";
    if (!out.record(l.note_at, job.notes.data(), job.notes.size())) return "dump: failed to write notes";
    // Page by page up to the last page's, each into both bitmaps, as QEMU.
    std::vector<uint8_t> bits = bitmap(job, l);
    uint64_t chunks = l.max_mapnr ? (l.max_mapnr - 1) / (kPage * 8) + 1 : 0;
    for (uint64_t i = 0; i < chunks; i++) {
        const uint8_t* chunk = bits.data() + i * kPage;
        if (!out.record(l.bitmap_at + i * kPage, chunk, kPage) ||
            !out.record(l.bitmap_at + l.bitmap_len + i * kPage, chunk, kPage))
            return i + 1 < chunks ? "dump: failed to set dump_bitmap" : "dump: failed to sync dump_bitmap";
    }
    return "";
}

// A page as stored: compressed when that is smaller, else as it is.
class PageCompressor {
public:
    explicit PageCompressor(uint32_t flag)
        : flag_(flag), out_(std::max({size_t(compressBound(kPage)), kPage + kPage / 16 + 64 + 3,
                                       snappy_max_compressed_length(kPage)})),
          work_(flag == kKdumpLzo ? LZO1X_1_MEM_COMPRESS : 0) {}
    std::span<const uint8_t> store(const uint8_t* page, uint32_t& flags) {
        size_t n = compress(page);
        flags = n ? flag_ : 0;
        return n ? std::span<const uint8_t>(out_.data(), n) : std::span<const uint8_t>(page, kPage);
    }

private:
    // The compressed size, or 0 when it failed or is not smaller.
    size_t compress(const uint8_t* page) {
        if (flag_ == kKdumpZlib) {
            uLongf n = out_.size();
            if (compress2(out_.data(), &n, page, kPage, Z_BEST_SPEED) == Z_OK && n < kPage) return n;
        } else if (flag_ == kKdumpLzo) {
            lzo_uint n = out_.size();
            if (lzo1x_1_compress(page, kPage, out_.data(), &n, work_.data()) == LZO_E_OK && n < kPage) return n;
        } else if (flag_ == kKdumpSnappy) {
            size_t n = out_.size();
            if (snappy_compress(reinterpret_cast<const char*>(page), kPage, reinterpret_cast<char*>(out_.data()), &n) ==
                    SNAPPY_OK && n < kPage)
                return n;
        }
        return 0;
    }
    uint32_t flag_;
    std::vector<uint8_t> out_, work_;
};

// The page descriptors and the page data, side by side in the stream.
class PageWriter {
public:
    PageWriter(FlatWriter& out, const KdumpJob& job, const Layout& l)
        : desc_(out, l.desc_at), data_(out, l.data_at), zero_at_(l.data_at), next_at_(l.data_at + kPage),
          compressor_(job.compression) {}
    std::string start() {
        const std::vector<uint8_t> zero(kPage);
        return data_.add(zero.data(), kPage) ? "" : "dump: failed to write page data (zero page)";
    }
    std::string page(const uint8_t* p) {
        uint32_t flags = 0;
        std::span<const uint8_t> stored(p, kPage);
        uint64_t at = zero_at_;
        if (std::any_of(p, p + kPage, [](uint8_t b) { return b != 0; })) {
            stored = compressor_.store(p, flags);
            if (!data_.add(stored.data(), stored.size())) return "dump: failed to write page data";
            at = next_at_;
            next_at_ += stored.size();
        }
        std::vector<uint8_t> d(kDescSize);   // offset, size, flags, page_flags (0)
        poke(d, 0, at);
        poke(d, 8, static_cast<uint32_t>(stored.size()));
        poke(d, 12, flags);
        return desc_.add(d.data(), d.size()) ? "" : "dump: failed to write page desc";
    }
    std::string finish() {
        if (!desc_.flush()) return "dump: failed to sync cache for page_desc";
        return data_.flush() ? "" : "dump: failed to sync cache for page_data";
    }

private:
    RecordCache desc_, data_;
    uint64_t zero_at_, next_at_;
    PageCompressor compressor_;
};

std::string write_pages(VmControl& vm, PageWriter& w, const KdumpJob& job, std::atomic<int64_t>& completed,
                        const std::atomic<bool>& cancel) {
    std::vector<uint8_t> buf(kReadChunk);
    for (const RamBlock& b : job.blocks) {
        uint64_t size = b.size / kPage * kPage;
        for (uint64_t done = 0; done < size;) {
            if (cancel) return "dump: cancelled";
            size_t n = static_cast<size_t>(std::min(kReadChunk, size - done));
            if (!vm.read_physical(b.gpa + done, std::span(buf.data(), n))) return "dump: failed to save memory";
            for (size_t p = 0; p < n; p += kPage) {
                if (std::string err = w.page(buf.data() + p); !err.empty()) return err;
                completed += static_cast<int64_t>(kPage);
            }
            done += n;
        }
    }
    return "";
}

} // namespace

std::optional<uint32_t> kdump_compression(const std::string& format) {
    if (format == "kdump-zlib") return kKdumpZlib;
    if (format == "kdump-lzo") return kKdumpLzo;
    if (format == "kdump-snappy") return kKdumpSnappy;
    return std::nullopt;
}

std::string write_kdump(VmControl& vm, int fd, const KdumpJob& job, std::atomic<int64_t>& completed,
                        const std::atomic<bool>& cancel) {
    if (job.compression == kKdumpLzo && lzo_init() != LZO_E_OK) return "failed to initialize the LZO library";
    FlatWriter out(fd);
    Layout l = layout_of(job);
    std::string err = write_headers(out, job, l);
    PageWriter pages(out, job, l);
    if (err.empty()) err = pages.start();
    if (err.empty()) err = write_pages(vm, pages, job, completed, cancel);
    if (err.empty()) err = pages.finish();
    if (err.empty() && !out.end()) err = "dump: failed to write end flat header";
    return err;
}

} // namespace kestrel
