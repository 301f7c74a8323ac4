// screendump's files: PPM bytes, PNG (zlib-compressed RGB rows), QEMU's error text.
#include "ui/screendump.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>
#include <zlib.h>

using namespace kestrel;

namespace {
std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
std::string temp_path(const char* name) { return "/tmp/kestrel-test-" + std::to_string(getpid()) + name; }

uint32_t be32(const std::string& s, size_t at) {
    return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 | uint32_t(uint8_t(s[at + 2])) << 8 |
           uint8_t(s[at + 3]);
}

// A PNG reader for the test: every chunk's CRC checked, the IDAT data
// inflated. Returns the chunk types in order and the inflated bytes.
std::vector<std::string> read_chunks(const std::string& png, std::string& inflated) {
    std::vector<std::string> types;
    std::string idat;
    for (size_t at = 8; at + 12 <= png.size();) {
        uint32_t len = be32(png, at);
        REQUIRE(at + 12 + len <= png.size());
        std::string type = png.substr(at + 4, 4);
        uLong crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), uInt(4 + len));
        CHECK(crc == be32(png, at + 8 + len));
        if (type == "IDAT") idat += png.substr(at + 8, len);
        types.push_back(type);
        at += 12 + len;
    }
    inflated.assign(1 << 16, '\0');
    uLongf n = inflated.size();
    REQUIRE(uncompress(reinterpret_cast<Bytef*>(inflated.data()), &n, reinterpret_cast<const Bytef*>(idat.data()),
                       idat.size()) == Z_OK);
    inflated.resize(n);
    return types;
}
} // namespace

TEST_CASE("screendump: binary PPM of the surface's RGB", "[screendump]") {
    Surface s(2, 1);
    s.row(0)[0] = 0x112233;
    s.row(0)[1] = 0xffeedd;
    std::string path = temp_path(".ppm");
    write_screendump(s, path, ImageFormat::Ppm);
    CHECK(slurp(path) == std::string("P6\n2 1\n255\n\x11\x22\x33\xff\xee\xdd", 17));
    unlink(path.c_str());
}

TEST_CASE("screendump: PNG with the PNG signature and an RGB header", "[screendump]") {
    Surface s(3, 2);
    std::string path = temp_path(".png");
    write_screendump(s, path, ImageFormat::Png);
    std::string png = slurp(path);
    REQUIRE(png.size() > 33);
    CHECK(png.substr(0, 8) == "\x89PNG\r\n\x1a\n");
    CHECK(png.substr(12, 4) == "IHDR");
    CHECK(png[24] == 8);  // bit depth
    CHECK(png[25] == 2);  // colour type RGB
    unlink(path.c_str());
}

TEST_CASE("screendump: PNG rows decode to the surface's pixels", "[screendump]") {
    Surface s(3, 300);
    for (int y = 0; y < 300; ++y)
        for (int x = 0; x < 3; ++x) s.row(y)[x] = uint32_t(y * 0x010203 + x * 0x112233) & 0xffffff;
    std::string path = temp_path(".png");
    write_screendump(s, path, ImageFormat::Png);
    std::string png = slurp(path), pixels;
    unlink(path.c_str());
    std::vector<std::string> types = read_chunks(png, pixels);
    REQUIRE(types.size() >= 3);
    CHECK(types.front() == "IHDR");
    CHECK(types.back() == "IEND");
    CHECK(be32(png, 16) == 3);
    CHECK(be32(png, 20) == 300);
    REQUIRE(pixels.size() == 300 * (1 + 3 * 3));
    bool same = true;
    for (int y = 0; y < 300; ++y) {
        const char* row = pixels.data() + y * 10;
        same = same && row[0] == 0;  // filter type None
        for (int x = 0; x < 3; ++x) {
            uint32_t want = s.row(y)[x];
            same = same && uint8_t(row[1 + x * 3]) == uint8_t(want >> 16) &&
                   uint8_t(row[2 + x * 3]) == uint8_t(want >> 8) && uint8_t(row[3 + x * 3]) == uint8_t(want);
        }
    }
    CHECK(same);
}

TEST_CASE("screendump: an unwritable file gives QEMU's error", "[screendump]") {
    Surface s(1, 1);
    CHECK_THROWS_WITH(write_screendump(s, "/nonexistent/x.ppm", ImageFormat::Ppm),
                      "failed to open file '/nonexistent/x.ppm': No such file or directory");
}
