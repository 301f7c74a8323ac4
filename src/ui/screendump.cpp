#include "ui/screendump.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <png.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

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

void write_png(const Surface& s, FILE* f) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!info) {
        png_destroy_write_struct(&png, nullptr);
        throw std::runtime_error("PNG creation failed. Unable to write struct");
    }
    std::vector<uint8_t> line;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        throw std::runtime_error("PNG creation failed");
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, png_uint_32(s.width()), png_uint_32(s.height()), 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < s.height(); ++y) {
        rgb_row(s.row(y), s.width(), line);
        png_write_row(png, line.data());
    }
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
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
