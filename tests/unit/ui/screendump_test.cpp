// screendump's files: PPM bytes, PNG as libpng writes it, QEMU's error text.
#include "ui/screendump.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

using namespace kestrel;

namespace {
std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
std::string temp_path(const char* name) { return "/tmp/kestrel-test-" + std::to_string(getpid()) + name; }
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

TEST_CASE("screendump: an unwritable file gives QEMU's error", "[screendump]") {
    Surface s(1, 1);
    CHECK_THROWS_WITH(write_screendump(s, "/nonexistent/x.ppm", ImageFormat::Ppm),
                      "failed to open file '/nonexistent/x.ppm': No such file or directory");
}
