#include "ui/screendump.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace kestrel {

namespace {

struct FileCloser {
    void operator()(FILE* f) const { fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

File open_for_writing(const std::string& path) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) throw std::runtime_error("failed to open file '" + path + "': " + std::strerror(errno));
    FILE* f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        throw std::runtime_error("failed to open file '" + path + "': " + std::strerror(errno));
    }
    return File(f);
}

void rgb_row(const uint32_t* pixels, int width, std::vector<uint8_t>& out) {
    out.resize(size_t(width) * 3);
    for (int x = 0; x < width; ++x) {
        out[size_t(x) * 3] = uint8_t(pixels[x] >> 16);
        out[size_t(x) * 3 + 1] = uint8_t(pixels[x] >> 8);
        out[size_t(x) * 3 + 2] = uint8_t(pixels[x]);
    }
}

void write_ppm(const Surface& s, FILE* f) {
    std::fprintf(f, "P6\n%d %d\n%d\n", s.width(), s.height(), 255);
    std::vector<uint8_t> line;
    for (int y = 0; y < s.height(); ++y) {
        rgb_row(s.row(y), s.width(), line);
        if (std::fwrite(line.data(), 1, line.size(), f) != line.size()) break;
    }
}

// PNG by hand over zlib (RFC 2083: 8-bit RGB, no interlace, filter type
// None): libpng's gamma code made kestrel link libm, whose IFUNC
// resolvers put ~250 KiB of libm text into every kestrel's RSS.
void write_chunk(FILE* f, const char type[4], const uint8_t* data, size_t len) {
    uint8_t head[8] = {uint8_t(len >> 24), uint8_t(len >> 16), uint8_t(len >> 8), uint8_t(len)};
    std::memcpy(head + 4, type, 4);
    uLong crc = crc32(crc32(0, nullptr, 0), head + 4, 4);
    if (len) crc = crc32(crc, data, uInt(len));
    uint8_t tail[4] = {uint8_t(crc >> 24), uint8_t(crc >> 16), uint8_t(crc >> 8), uint8_t(crc)};
    std::fwrite(head, 1, 8, f);
    if (len) std::fwrite(data, 1, len, f);
    std::fwrite(tail, 1, 4, f);
}

struct Deflater {
    z_stream z{};
    Deflater() {
        if (deflateInit(&z, Z_DEFAULT_COMPRESSION) != Z_OK) throw std::runtime_error("PNG creation failed");
    }
    ~Deflater() { deflateEnd(&z); }
    // Compresses `in` (all of it; Z_FINISH at the end) into IDAT chunks.
    void write(FILE* f, std::vector<uint8_t>& in, int flush) {
        uint8_t out[65536];
        z.next_in = in.data();
        z.avail_in = uInt(in.size());
        do {
            z.next_out = out;
            z.avail_out = sizeof out;
            if (deflate(&z, flush) == Z_STREAM_ERROR) throw std::runtime_error("PNG creation failed");
            if (size_t n = sizeof out - z.avail_out) write_chunk(f, "IDAT", out, n);
        } while (z.avail_out == 0);
    }
};

void write_png(const Surface& s, FILE* f) {
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    std::fwrite(signature, 1, 8, f);
    uint32_t w = uint32_t(s.width()), h = uint32_t(s.height());
    const uint8_t ihdr[13] = {uint8_t(w >> 24), uint8_t(w >> 16), uint8_t(w >> 8), uint8_t(w),
                              uint8_t(h >> 24), uint8_t(h >> 16), uint8_t(h >> 8), uint8_t(h),
                              8, 2, 0, 0, 0};  // depth 8, RGB, deflate, filter method 0, no interlace
    write_chunk(f, "IHDR", ihdr, sizeof ihdr);
    Deflater deflater;
    std::vector<uint8_t> line, row;
    for (int y = 0; y < s.height(); ++y) {
        rgb_row(s.row(y), s.width(), line);
        row.assign(1, 0);  // the scanline's filter type: None
        row.insert(row.end(), line.begin(), line.end());
        deflater.write(f, row, y + 1 == s.height() ? Z_FINISH : Z_NO_FLUSH);
    }
    if (s.height() == 0) deflater.write(f, row, Z_FINISH);
    write_chunk(f, "IEND", nullptr, 0);
}

} // namespace

void write_screendump(const Surface& surface, const std::string& path, ImageFormat format) {
    File f = open_for_writing(path);
    if (format == ImageFormat::Png)
        write_png(surface, f.get());
    else
        write_ppm(surface, f.get());
    if (std::fflush(f.get()) != 0 || std::ferror(f.get()))
        throw std::runtime_error("failed to write file '" + path + "': " + std::strerror(errno));
}

} // namespace kestrel
