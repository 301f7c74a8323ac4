// Cirrus CL-GD5446: extension registers, the hidden DAC, extended modes,
// and the BitBLT engine with sane and absurd parameters. No blit may reach
// outside VRAM; the guard pages around a test VRAM would fault if one did.
#include "devices/vga/cirrus/cirrus_vga.h"
#include "devices/vga/vga_regs.h"
#include "fake_device_memory.h"
#include "vga_test_ports.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <random>

using namespace kestrel;
using namespace kestrel::vga;

namespace {

constexpr uint64_t kVram = 4 << 20;

void sr(CirrusVga& v, uint8_t i, uint8_t value) { test::vga_seq(v, i, value); }
void gr(CirrusVga& v, uint8_t i, uint8_t value) { test::vga_gfx(v, i, value); }
uint8_t gr_read(CirrusVga& v, uint8_t i) { return test::vga_gfx_read(v, i); }

struct Blit {
    int width = 1, height = 1, dst_pitch = 0, src_pitch = 0;
    uint32_t dst = 0, src = 0;
    uint8_t mode = 0, mode_ext = 0, rop = 0x0d;  // SRC
    uint8_t fg = 0, bg = 0;
};

// Programs and starts a blit through the GR registers, as a driver does.
void blit(CirrusVga& v, const Blit& b) {
    gr(v, 0x00, b.bg);
    gr(v, 0x01, b.fg);
    gr(v, 0x20, uint8_t(b.width - 1));
    gr(v, 0x21, uint8_t((b.width - 1) >> 8));
    gr(v, 0x22, uint8_t(b.height - 1));
    gr(v, 0x23, uint8_t((b.height - 1) >> 8));
    gr(v, 0x24, uint8_t(b.dst_pitch));
    gr(v, 0x25, uint8_t(b.dst_pitch >> 8));
    gr(v, 0x26, uint8_t(b.src_pitch));
    gr(v, 0x27, uint8_t(b.src_pitch >> 8));
    gr(v, 0x28, uint8_t(b.dst));
    gr(v, 0x29, uint8_t(b.dst >> 8));
    gr(v, 0x2a, uint8_t(b.dst >> 16));
    gr(v, 0x2c, uint8_t(b.src));
    gr(v, 0x2d, uint8_t(b.src >> 8));
    gr(v, 0x2e, uint8_t(b.src >> 16));
    gr(v, 0x30, b.mode);
    gr(v, 0x32, b.rop);
    gr(v, 0x33, b.mode_ext);
    gr(v, 0x31, 0x02);  // start
}

void svga_8bpp(CirrusVga& v) {
    sr(v, 0x06, 0x12);  // unlock
    sr(v, 0x07, 0x01);  // extended modes, 8 bpp
}

} // namespace

TEST_CASE("Cirrus: extensions unlock with 0x12; the part id; the hidden DAC after four reads", "[cirrus]") {
    CirrusVga v(kVram, true);
    v.port_write(MIS_W, 0x01);
    v.port_write(SEQ_I, 0x06);
    CHECK(v.port_read(SEQ_D) == 0x0f);
    v.port_write(SEQ_D, 0x12);
    CHECK(v.port_read(SEQ_D) == 0x12);
    v.port_write(CRT_IC, 0x27);
    CHECK(v.port_read(CRT_DC) == 0xb8);
    v.port_write(SEQ_I, 0x20);  // unknown index: all ones
    CHECK(v.port_read(SEQ_D) == 0xff);
    v.port_write(SEQ_I, 0x50);  // an alias of the cursor's X (SR10)
    CHECK(v.port_read(SEQ_D) == 0x00);
    v.port_read(PEL_IW);  // resets the sequence
    for (int i = 0; i < 4; ++i) CHECK(v.port_read(PEL_MSK) == 0xff);
    v.port_write(PEL_MSK, 0xe1);  // the fifth access writes it
    v.port_read(PEL_IW);
    for (int i = 0; i < 4; ++i) v.port_read(PEL_MSK);
    CHECK(v.port_read(PEL_MSK) == 0xe1);
    CHECK(gr_read(v, 0x50) == 0xff);
}

TEST_CASE("Cirrus: extended modes give their depth and the 16 MiB start address", "[cirrus]") {
    auto mem = std::make_shared<test::FakeDeviceMemory>();
    CirrusVga v(kVram, true);
    v.attach(mem, nullptr);
    v.port_write(MIS_W, 0x01);
    svga_8bpp(v);
    sr(v, 0x07, 0x09);  // 32 bpp
    v.port_read(IS1_RC);
    v.port_write(ATT_W, 0x20);
    gr(v, 0x06, 0x01);  // graphics
    gr(v, 0x05, 0x40);
    for (auto [i, value] : {std::pair{0x01, 63}, {0x12, 47}, {0x07, 0x00}, {0x13, 64}, {0x17, 0x03}})
        v.port_write(CRT_IC, uint8_t(i)), v.port_write(CRT_DC, uint8_t(value));
    Surface s;
    std::vector<Rect> damage;
    v.render(s, true, damage);
    CHECK(s.width() == 512);
    CHECK(s.height() == 48);
    v.map_linear(0xf0000000, kVram);
    REQUIRE(mem->at(0xf0000000));
    std::memset(v.vram(), 0, 4);
    v.vram()[0] = 0x10, v.vram()[1] = 0x20, v.vram()[2] = 0x30;
    mem->dirty_pages.insert(0);
    v.render(s, false, damage);
    CHECK(s.row(0)[0] == 0x302010);
}

TEST_CASE("Cirrus 16 bpp: widened as pixman does, unless the hardware cursor forces a shadow", "[cirrus]") {
    CirrusVga v(kVram, true);
    v.port_write(MIS_W, 0x01);
    svga_8bpp(v);
    sr(v, 0x07, 0x07);  // 16 bpp
    v.port_write(0x3c6, 0);  // hidden DAC: four reads, then the write
    for (int i = 0; i < 4; ++i) v.port_read(0x3c6);
    v.port_write(0x3c6, 0xc1);
    v.port_read(IS1_RC);
    v.port_write(ATT_W, 0x20);
    gr(v, 0x06, 0x01);
    gr(v, 0x05, 0x40);
    for (auto [i, value] : {std::pair{0x01, 7}, {0x12, 7}, {0x07, 0x00}, {0x13, 16}, {0x17, 0x03}, {0x18, 0xff}})
        v.port_write(CRT_IC, uint8_t(i)), v.port_write(CRT_DC, uint8_t(value));
    v.vram()[0] = 0xff, v.vram()[1] = 0xff;
    v.vram()[4 * 128 + 120] = 0xff, v.vram()[4 * 128 + 121] = 0xff;  // x 60, line 4
    Surface s;
    std::vector<Rect> damage;
    v.render(s, true, damage);
    REQUIRE(s.width() == 64);
    CHECK(s.row(0)[0] == 0xffffff);
    sr(v, 0x12, 0x01);  // cursor on: QEMU draws lines itself, without widening
    sr(v, 0x10, 0x00), sr(v, 0x11, 0x00);
    sr(v, 0x13, 0x00);
    v.render(s, true, damage);
    CHECK(s.row(4)[60] == 0xf8fcf8);
}

TEST_CASE("Cirrus BitBLT: forward and backward copies, raster operations", "[cirrus][blt]") {
    CirrusVga v(kVram, true);
    svga_8bpp(v);
    uint8_t* m = v.vram();
    for (int i = 0; i < 64; ++i) m[i] = uint8_t(i);
    blit(v, {8, 4, 100, 16, 1000, 0});
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 8; ++x) CHECK(m[1000 + y * 100 + x] == y * 16 + x);
    // Backward: addresses are the last bytes, lines go up.
    for (int i = 16; i < 20; ++i) m[i] = uint8_t(0xa0 + i - 16);
    blit(v, {4, 2, 100, 16, 1000 + 100 + 3, 16 + 3, 0x01});
    CHECK(m[1100] == 0xa0);
    CHECK(m[1103] == 0xa3);
    CHECK(m[1000] == 0);
    CHECK(m[1003] == 3);
    blit(v, {8, 1, 100, 16, 1000, 0, 0, 0, 0x59});  // XOR with the source clears the copy
    for (int x = 0; x < 8; ++x) CHECK(m[1000 + x] == 0);
    blit(v, {8, 1, 100, 16, 1000, 0, 0, 0, 0x0e});  // all ones
    CHECK(m[1000] == 0xff);
    blit(v, {8, 1, 100, 16, 1000, 0, 0, 0, 0x33});  // undefined code: nothing happens
    CHECK(m[1000] == 0xff);
}

TEST_CASE("Cirrus BitBLT: solid fill, colour expansion and pattern fill", "[cirrus][blt]") {
    CirrusVga v(kVram, true);
    svga_8bpp(v);
    uint8_t* m = v.vram();
    blit(v, {16, 2, 64, 0, 2000, 0, 0xc0, 0x04, 0x0d, 0x5a});  // pattern + expand + solid fill ext
    CHECK(m[2000] == 0x5a);
    CHECK(m[2000 + 64 + 15] == 0x5a);
    CHECK(m[2000 + 16] == 0);
    m[3000] = 0xa0;  // two lines of 8 pixels: 1010 0000, then 0x01
    m[3001] = 0x01;
    blit(v, {8, 2, 64, 1, 4000, 3000, 0x80, 0, 0x0d, 0x11, 0x22});  // colour expand from video
    CHECK(m[4000] == 0x11);
    CHECK(m[4001] == 0x22);
    CHECK(m[4002] == 0x11);
    CHECK(m[4064 + 7] == 0x11);
    CHECK(m[4064] == 0x22);
    for (int i = 0; i < 64; ++i) m[0x10000 + i] = uint8_t(0x80 + i);  // an 8x8 pattern at a 64-byte boundary
    // A pattern in VRAM is aligned to its size, so its rows start at 0.
    blit(v, {16, 9, 32, 0, 5000, 0x10000 + 3, 0x40});
    CHECK(m[5000] == 0x80);
    CHECK(m[5000 + 8] == 0x80);  // the pattern repeats every 8 pixels
    CHECK(m[5000 + 5 * 32 + 1] == 0x80 + 41);
    CHECK(m[5000 + 8 * 32] == 0x80);  // and every 8 lines
}

TEST_CASE("Cirrus BitBLT: a source written by the CPU through the aperture", "[cirrus][blt]") {
    auto mem = std::make_shared<test::FakeDeviceMemory>();
    CirrusVga v(kVram, true);
    v.attach(mem, nullptr);
    v.map_linear(0xf0000000, kVram);
    svga_8bpp(v);
    REQUIRE(mem->at(0xf0000000));
    blit(v, {6, 2, 50, 0, 6000, 0, 0x04});  // system to video, 6 bytes a line (padded to 8)
    CHECK(mem->at(0xf0000000) == nullptr);  // the LFB traps while the blit waits for its source
    std::vector<uint8_t> line = {1, 2, 3, 4, 5, 6, 0, 0};
    v.linear_io_write(cirrus::kBlitAperture, line);
    CHECK(v.vram()[6000] == 1);
    CHECK(v.vram()[6005] == 6);
    line = {7, 8, 9, 10, 11, 12, 0, 0};
    v.linear_io_write(cirrus::kBlitAperture, line);
    CHECK(v.vram()[6050] == 7);
    CHECK(mem->at(0xf0000000));  // done: plain VRAM again
    CHECK((gr_read(v, 0x31) & 0x01) == 0);
}

// The byte-by-byte model of SRC copies and fills: lines in order, bytes
// in order (backward: from the last byte down), whole pixels for fills.
void model_copy(std::vector<uint8_t>& m, const Blit& b, bool backward) {
    int step = backward ? -1 : 1;
    for (int y = 0; y < b.height; ++y)
        for (int x = 0; x < b.width; ++x)
            m[size_t(int64_t(b.dst) + step * (int64_t(y) * b.dst_pitch + x))] =
                m[size_t(int64_t(b.src) + step * (int64_t(y) * b.src_pitch + x))];
}

void model_fill(std::vector<uint8_t>& m, const Blit& b, int bpp, const uint8_t* fg) {
    for (int y = 0; y < b.height; ++y)
        for (int x = 0; x < b.width; x += bpp)
            for (int i = 0; i < bpp; ++i) m[size_t(b.dst) + size_t(y) * size_t(b.dst_pitch) + size_t(x + i)] = fg[i];
}

TEST_CASE("Cirrus BitBLT: SRC copies and fills, overlapping or not, are the byte-by-byte result", "[cirrus][blt]") {
    CirrusVga v(kVram, true);
    svga_8bpp(v);
    std::mt19937 rng(7);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    uint8_t* m = v.vram();
    for (uint64_t i = 0; i < kVram; ++i) m[i] = uint8_t(rng());
    std::vector<uint8_t> model(m, m + kVram);
    for (int n = 0; n < 300; ++n) {
        Blit b;
        b.width = pick(1, 300);
        b.height = pick(1, 12);
        b.dst_pitch = pick(1, 400);
        b.src_pitch = pick(1, 400);
        uint32_t base = 100000;
        b.dst = base + uint32_t(pick(0, 600));  // near each other: overlaps both ways
        b.src = base + uint32_t(pick(0, 600));
        int kind = pick(0, 2);
        if (kind == 2) {
            int bpp = pick(1, 2);
            uint8_t fg[2] = {uint8_t(rng()), uint8_t(rng())};
            b.mode = uint8_t(0xc0 | (bpp == 2 ? 0x10 : 0));
            b.mode_ext = 0x04;
            b.fg = fg[0];
            gr(v, 0x11, fg[1]);
            blit(v, b);
            model_fill(model, b, bpp, fg);
        } else {
            bool backward = kind == 1;
            if (backward) {  // the last bytes of the regions
                b.dst += uint32_t((b.height - 1) * b.dst_pitch + b.width - 1);
                b.src += uint32_t((b.height - 1) * b.src_pitch + b.width - 1);
                b.mode = 0x01;
            }
            blit(v, b);
            model_copy(model, b, backward);
        }
        INFO("blit " << n << ": kind " << kind << ", " << b.width << "x" << b.height << " pitches " << b.dst_pitch
                     << "/" << b.src_pitch << " dst " << b.dst << " src " << b.src);
        REQUIRE(std::memcmp(m, model.data(), kVram) == 0);
    }
}

TEST_CASE("Cirrus BitBLT: blits reaching outside VRAM are refused whole", "[cirrus][blt]") {
    CirrusVga v(kVram, true);
    svga_8bpp(v);
    uint8_t* m = v.vram();
    std::memset(m + kVram - 4096, 0x77, 4096);
    // The destination's last line would end past VRAM.
    blit(v, {256, 2, 4096, 0, uint32_t(kVram - 4096 + 100), 0, 0xc0, 0x04, 0x0d, 0x11});
    CHECK(m[kVram - 4096 + 100] == 0x77);
    // A backward copy starting at the bottom of VRAM going up past 0.
    blit(v, {64, 16, 64, 64, 100, 200, 0x01});
    CHECK(m[100] == 0);
    // A zero pitch, widths beyond the line buffer, an unknown pixel width.
    blit(v, {8, 2, 0, 8, 100, 0});
    blit(v, {8192 + 1, 1, 9000, 9000, 0, 0});
    blit(v, {4, 4, 100, 100, 0, 0, 0x06});  // system to and from memory
    CHECK((gr_read(v, 0x31) & 0x03) == 0);  // nothing left busy
}

TEST_CASE("Cirrus BitBLT: random registers never touch memory outside VRAM", "[cirrus][blt]") {
    CirrusVga v(kVram, true);
    svga_8bpp(v);
    std::mt19937 rng(1234);
    for (int i = 0; i < 3000; ++i) {
        for (uint8_t reg : {0x00, 0x01, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
                            0x26, 0x27, 0x28, 0x29, 0x2a, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x32, 0x33, 0x34, 0x35})
            gr(v, reg, uint8_t(rng()));
        gr(v, 0x22, uint8_t(rng() & 0x0f));  // keep heights modest so the test is quick
        gr(v, 0x23, 0);
        gr(v, 0x31, 0x02);
        if (rng() % 4 == 0) {  // some CPU source bytes for a system-to-video blit
            std::vector<uint8_t> bytes(rng() % 64, uint8_t(rng()));
            v.linear_io_write(cirrus::kBlitAperture + (rng() % 64), bytes);
        }
        gr(v, 0x31, 0x04);  // reset
        gr(v, 0x31, 0x00);
    }
    SUCCEED("no fault");
}

TEST_CASE("Cirrus: banked window writes land at the bank's offset, within VRAM", "[cirrus]") {
    CirrusVga v(kVram, true);
    svga_8bpp(v);
    gr(v, 0x0b, 0x00);  // one bank, 4 KiB granularity
    gr(v, 0x09, 0x10);  // bank 0 at 64 KiB
    uint8_t b = 0x42;
    v.mem_write(0x0005, {&b, 1});
    CHECK(v.vram()[0x10005] == 0x42);
    gr(v, 0x09, 0xff);  // 1020 KiB: the second half of the window still fits
    v.mem_write(0xffff, {&b, 1});
    gr(v, 0x0b, 0x21);  // dual banks, 16 KiB units
    gr(v, 0x0a, 0xff);  // bank 1 at 4080 KiB: 16 KiB left
    v.mem_write(0x8000 + 0x3fff, {&b, 1});
    CHECK(v.vram()[kVram - 1] == 0x42);
    v.mem_write(0x8000 + 0x4000, {&b, 1});  // past the bank's limit: ignored
    uint8_t r = 0;
    v.mem_read(0x8000 + 0x4000, {&r, 1});
    CHECK(r == 0xff);
}
