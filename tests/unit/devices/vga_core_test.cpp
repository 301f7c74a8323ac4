// The VGA core: register masks, the legacy window's access modes, VBE's
// clamping, rendering, and absurd register values that must never read or
// write outside VRAM.
#include "devices/vga/vga_core.h"
#include "devices/vga/vga_regs.h"
#include "fake_device_memory.h"
#include "vga_test_ports.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

using namespace kestrel;
using namespace kestrel::vga;

namespace {

constexpr uint64_t kVram = 1 << 20;  // 1 MiB

void seq(VgaCore& v, uint8_t index, uint8_t value) { test::vga_seq(v, index, value); }
void gfx(VgaCore& v, uint8_t index, uint8_t value) { test::vga_gfx(v, index, value); }
void crtc(VgaCore& v, uint8_t index, uint8_t value) { test::vga_crtc(v, index, value); }
void attr(VgaCore& v, uint8_t index, uint8_t value) {
    v.port_read(IS1_RC);  // flip-flop to index
    v.port_write(ATT_W, index);
    v.port_write(ATT_W, value);
}
void write_mem(VgaCore& v, uint32_t offset, uint8_t value) {
    uint8_t b = value;
    v.mem_write(offset, {&b, 1});
}
uint8_t read_mem(VgaCore& v, uint32_t offset) {
    uint8_t b = 0;
    v.mem_read(offset, {&b, 1});
    return b;
}

// A font whose glyph for character c has line i = c ^ i.
std::vector<uint8_t> test_font() {
    std::vector<uint8_t> font(4096);
    for (unsigned c = 0; c < 256; ++c)
        for (unsigned line = 0; line < 16; ++line) font[c * 16 + line] = uint8_t(c ^ line);
    return font;
}

Surface render(VgaCore& v, std::vector<Rect>* damage = nullptr) {
    Surface s;
    std::vector<Rect> d;
    v.render(s, true, d);
    if (damage) *damage = d;
    return s;
}

void vbe(VgaCore& v, uint16_t index, uint16_t value) { v.vbe_write(index, value); }

} // namespace

TEST_CASE("VGA: registers keep only the bits the hardware has", "[vga]") {
    VgaCore v(kVram);
    v.port_write(MIS_W, 0x01);  // colour addresses
    seq(v, SR_CLOCK_MODE, 0xff);
    CHECK(v.port_read(SEQ_D) == 0x3d);
    gfx(v, GR_MODE, 0xff);
    CHECK(v.port_read(GFX_D) == 0x7b);
    v.port_write(SEQ_I, 0xff);
    CHECK(v.port_read(SEQ_I) == 7);  // index wraps within the sequencer's 8
    attr(v, AR_PLANE_ENABLE, 0xff);
    v.port_write(ATT_W, 0x20 | AR_PLANE_ENABLE);
    CHECK(v.port_read(ATT_R) == 0x3f);
    // CR0-CR7 locked by CR11 bit 7, except CR7's line compare bit.
    crtc(v, CR_V_SYNC_END, 0x80);
    crtc(v, CR_H_TOTAL, 0x55);
    CHECK(v.port_read(CRT_DC) == 0x00);
    crtc(v, CR_OVERFLOW, 0xff);
    CHECK(v.port_read(CRT_DC) == 0x10);
}

TEST_CASE("VGA: mono ports answer 0xff while colour addresses are selected", "[vga]") {
    VgaCore v(kVram);
    v.port_write(MIS_W, 0x01);
    CHECK(v.port_read(CRT_IM) == 0xff);
    v.port_write(MIS_W, 0x00);
    CHECK(v.port_read(CRT_IC) == 0xff);
    CHECK(v.port_read(CRT_IM) == 0x00);
}

TEST_CASE("VGA: the DAC reads back what was written, three bytes an entry", "[vga]") {
    VgaCore v(kVram);
    v.port_write(PEL_IW, 5);
    for (uint8_t b : {1, 2, 3, 4, 5, 6}) v.port_write(PEL_D, b);
    CHECK(v.port_read(PEL_IW) == 7);
    v.port_write(PEL_IR, 5);
    std::vector<uint8_t> got;
    for (int i = 0; i < 6; ++i) got.push_back(v.port_read(PEL_D));
    CHECK(got == std::vector<uint8_t>{1, 2, 3, 4, 5, 6});
    CHECK(v.port_read(PEL_IR) == 3);
}

TEST_CASE("VGA: status reads toggle retrace and reset the attribute flip-flop", "[vga]") {
    VgaCore v(kVram);
    v.port_write(MIS_W, 0x01);
    v.port_write(MIS_W, 0x01);
    uint8_t a = v.port_read(IS1_RC), b = v.port_read(IS1_RC);
    CHECK((a ^ b) == (ST01_V_RETRACE | ST01_DISP_ENABLE));
    v.port_write(ATT_W, 0x10);  // index
    v.port_read(IS1_RC);
    v.port_write(ATT_W, 0x31);  // an index again, not data
    CHECK(v.port_read(ATT_W) == 0);  // reads show the index only before data
    v.port_read(IS1_RC);
    CHECK(v.port_read(ATT_W) == 0x31);
}

TEST_CASE("VGA: odd/even text mode puts characters in plane 0 and attributes in plane 1", "[vga]") {
    VgaCore v(kVram);
    v.post_text_mode(test_font());
    write_mem(v, 0x18000, 'A');
    write_mem(v, 0x18001, 0x1f);
    CHECK(v.vram()[0] == 'A');
    CHECK(v.vram()[1] == 0x1f);
    CHECK(read_mem(v, 0x18000) == 'A');
    CHECK(read_mem(v, 0x18001) == 0x1f);
    CHECK(read_mem(v, 0x00000) == 0xff);  // outside memory map 3 (0xb8000)
}

TEST_CASE("VGA: planar write modes, bit mask, set/reset and read mode 1", "[vga]") {
    VgaCore v(kVram);
    seq(v, SR_PLANE_WRITE, 0x0f);
    seq(v, SR_MEMORY_MODE, 0x06);  // planar
    gfx(v, GR_MISC, 0x05);         // graphics, map 1 (0xa0000, 64 KiB)
    gfx(v, GR_MODE, 0x00);
    gfx(v, GR_BIT_MASK, 0xff);
    write_mem(v, 0, 0xa5);  // mode 0: the byte to every plane
    CHECK(v.vram()[0] == 0xa5);
    CHECK(v.vram()[3] == 0xa5);
    gfx(v, GR_SR_ENABLE, 0x0f);
    gfx(v, GR_SR_VALUE, 0x05);  // planes 0 and 2 set, 1 and 3 clear
    write_mem(v, 4, 0x00);
    CHECK(v.vram()[16] == 0xff);
    CHECK(v.vram()[17] == 0x00);
    CHECK(v.vram()[18] == 0xff);
    gfx(v, GR_SR_ENABLE, 0);
    gfx(v, GR_MODE, 0x02);      // write mode 2: colour to planes
    gfx(v, GR_BIT_MASK, 0x0f);  // only the low four pixels
    read_mem(v, 8);             // latch zeros
    write_mem(v, 8, 0x0a);
    CHECK(v.vram()[32] == 0x00);
    CHECK(v.vram()[33] == 0x0f);
    CHECK(v.vram()[35] == 0x0f);
    gfx(v, GR_MODE, 0x08);  // read mode 1
    gfx(v, GR_COMPARE_VALUE, 0x0a);
    gfx(v, GR_COMPARE_MASK, 0x0f);
    CHECK(read_mem(v, 8) == 0x0f);
}

TEST_CASE("VGA: chain 4 maps bytes straight to VRAM through a KVM slot", "[vga]") {
    auto mem = std::make_shared<test::FakeDeviceMemory>();
    VgaCore v(kVram);
    v.attach(mem, nullptr);
    CHECK(mem->coalesced.count({kLegacyBase, kLegacySize}));
    seq(v, SR_PLANE_WRITE, 0x0f);
    seq(v, SR_MEMORY_MODE, 0x0e);  // chain 4
    gfx(v, GR_MISC, 0x05);
    const auto* slot = mem->at(0xa0000);
    REQUIRE(slot);
    CHECK(slot->host == v.vram());
    CHECK(slot->size == 0x10000);
    CHECK(slot->log_dirty);
    seq(v, SR_PLANE_WRITE, 0x01);  // not every plane writable: back to MMIO
    CHECK(mem->at(0xa0000) == nullptr);
}

TEST_CASE("VGA: a VBE bank or a planar address beyond VRAM never reaches past it", "[vga]") {
    auto mem = std::make_shared<test::FakeDeviceMemory>();
    VgaCore v(256 * 1024);
    v.attach(mem, nullptr);
    vbe(v, VBE_INDEX_ENABLE, VBE_ENABLED | VBE_NOCLEARMEM);
    vbe(v, VBE_INDEX_BANK, 0xffff);
    CHECK(v.vbe_read(VBE_INDEX_BANK) == 3);  // masked to the banks there are
    for (uint32_t off : {0u, 0xffffu, 0x10000u, 0x1ffffu}) write_mem(v, off, 0x5a);
    for (const auto& [handle, m] : mem->mappings) CHECK(m.host + m.size <= v.vram() + v.vram_size());
    vbe(v, VBE_INDEX_ENABLE, 0);
    seq(v, SR_MEMORY_MODE, 0x06);
    gfx(v, GR_MISC, 0x01);  // map 0: 128 KiB, planar = 512 KiB > 256 KiB of VRAM
    gfx(v, GR_MODE, 0);
    for (uint32_t off = 0x10000; off < 0x20000; off += 0x1fff) {
        write_mem(v, off, 0xff);
        CHECK(read_mem(v, off) == 0xff);  // beyond VRAM: ignored writes, all-ones reads
    }
}

TEST_CASE("VGA: VBE clamps absurd modes to what fits in VRAM", "[vga]") {
    VgaCore v(kVram);
    attr(v, 0, 0);
    v.port_write(ATT_W, 0x20);  // video on
    vbe(v, VBE_INDEX_XRES, 0xffff);
    vbe(v, VBE_INDEX_YRES, 0xffff);
    vbe(v, VBE_INDEX_BPP, 99);
    vbe(v, VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    CHECK(v.vbe_read(VBE_INDEX_BPP) == 8);
    CHECK(v.vbe_read(VBE_INDEX_XRES) == VBE_MAX_XRES);
    uint64_t bytes = uint64_t(v.vbe_read(VBE_INDEX_YRES)) * v.vbe_read(VBE_INDEX_VIRT_WIDTH);
    CHECK(bytes <= kVram);
    vbe(v, VBE_INDEX_Y_OFFSET, 0xffff);
    vbe(v, VBE_INDEX_X_OFFSET, 0xffff);
    CHECK(v.vbe_read(VBE_INDEX_Y_OFFSET) == 0);
    Surface s = render(v);
    CHECK(s.width() == VBE_MAX_XRES);
    v.vbe_write(VBE_INDEX_ENABLE, VBE_GETCAPS);
    CHECK(v.vbe_read(VBE_INDEX_XRES) == VBE_MAX_XRES);
    CHECK(v.vbe_read(VBE_INDEX_VIDEO_MEMORY_64K) == kVram >> 16);
    CHECK(v.vbe_read(0x1234) == 0);
}

TEST_CASE("VGA: text mode draws the font in the attribute's colours, 9 dots wide", "[vga]") {
    VgaCore v(kVram);
    v.post_text_mode(test_font());
    crtc(v, CR_CURSOR_START, 0x20);  // cursor off
    write_mem(v, 0x18000, 0x41);
    write_mem(v, 0x18001, 0x1e);  // yellow on blue
    Surface s = render(v);
    REQUIRE(s.width() == 720);
    REQUIRE(s.height() == 400);
    // QEMU's 6-to-8 bit DAC scaling: 0x2a -> 0xa8, 0x15 -> 0x57.
    uint32_t blue = 0x0000a8, yellow = 0xffff57;
    for (int line = 0; line < 16; ++line) {
        uint8_t bits = uint8_t(0x41 ^ line);
        for (int x = 0; x < 8; ++x) CHECK(s.row(line)[x] == ((bits & (0x80 >> x)) ? yellow : blue));
        CHECK(s.row(line)[8] == blue);  // the ninth dot of a letter is background
    }
    // 0xc4 (a line-drawing character) repeats its eighth dot.
    write_mem(v, 0x18002, 0xc4);
    write_mem(v, 0x18003, 0x1e);
    std::vector<Rect> damage;
    Surface t;
    v.render(t, true, damage);
    for (int line = 0; line < 16; ++line) CHECK(t.row(line)[9 + 8] == ((0xc4 ^ line) & 1 ? yellow : blue));
}

TEST_CASE("VGA: only changed text cells are drawn again", "[vga]") {
    VgaCore v(kVram);
    v.post_text_mode(test_font());
    crtc(v, CR_CURSOR_START, 0x20);
    Surface s;
    std::vector<Rect> damage;
    v.render(s, false, damage);
    damage.clear();
    v.render(s, false, damage);
    CHECK(damage.empty());
    write_mem(v, 0x18000 + 2 * (80 * 3 + 10), 'x');
    v.render(s, false, damage);
    REQUIRE(damage.size() == 1);
    CHECK(damage[0] == Rect{90, 48, 9, 16});
}

TEST_CASE("VGA: a shown cursor's cell is drawn again only when the blink turns", "[vga]") {
    VgaCore v(kVram);
    v.post_text_mode(test_font());
    crtc(v, CR_CURSOR_START, 0x0e);  // cursor on, lines 14-15, at cell 0
    crtc(v, CR_CURSOR_END, 0x0f);
    Surface s;
    std::vector<Rect> damage;
    v.render(s, false, damage);
    // Frames within one blink phase draw nothing: an idle screen is not
    // taken for a changing one (it was polled every 30 ms).
    for (int i = 0; i < 3; ++i) {
        damage.clear();
        v.render(s, false, damage);
        CHECK(damage.empty());
    }
    // After a half period (266 ms) the cell shows the other phase. A sleep is safe
    // here: a late wakeup only lengthens the test.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    damage.clear();
    v.render(s, false, damage);
    REQUIRE(damage.size() == 1);
    CHECK(damage[0] == Rect{0, 0, 9, 16});
    // Hiding it draws the cell again, without the cursor.
    crtc(v, CR_CURSOR_START, 0x2e);
    damage.clear();
    v.render(s, false, damage);
    REQUIRE(damage.size() == 1);
    CHECK(damage[0] == Rect{0, 0, 9, 16});
}

TEST_CASE("VGA: VBE 32 bpp shows VRAM's BGRX pixels and redraws dirty lines only", "[vga]") {
    auto mem = std::make_shared<test::FakeDeviceMemory>();
    VgaCore v(kVram);
    v.attach(mem, nullptr);
    v.map_linear(0xe0000000, kVram);
    attr(v, 0, 0);
    v.port_write(ATT_W, 0x20);
    vbe(v, VBE_INDEX_XRES, 64);
    vbe(v, VBE_INDEX_YRES, 32);
    vbe(v, VBE_INDEX_BPP, 32);
    vbe(v, VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    Surface s;
    std::vector<Rect> damage;
    v.render(s, false, damage);
    CHECK(s.width() == 64);
    CHECK(s.height() == 32);
    uint8_t* px = v.vram() + (20 * 64 + 3) * 4;  // line 20, x 3, as the guest writes it
    px[0] = 0x11, px[1] = 0x22, px[2] = 0x33;
    mem->dirty_pages.insert((20 * 64 * 4) / 4096);
    damage.clear();
    v.render(s, false, damage);
    CHECK(s.row(20)[3] == 0x332211);
    REQUIRE(!damage.empty());
    for (const Rect& r : damage) CHECK((r.y <= 20 && r.y + r.h > 20));
}

TEST_CASE("VGA: VBE 16 bpp widens 5/6-bit colours as QEMU's shared surface does", "[vga]") {
    VgaCore v(kVram);
    attr(v, 0, 0);
    v.port_write(ATT_W, 0x20);
    vbe(v, VBE_INDEX_XRES, 16);
    vbe(v, VBE_INDEX_YRES, 4);
    vbe(v, VBE_INDEX_BPP, 16);
    vbe(v, VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    uint16_t* px = reinterpret_cast<uint16_t*>(v.vram());
    px[0] = 0xffff, px[1] = 0xf800, px[2] = 0x07e0, px[3] = 0x001f, px[4] = 0x8410;
    Surface s = render(v);
    CHECK(s.row(0)[0] == 0xffffff);
    CHECK(s.row(0)[1] == 0xff0000);
    CHECK(s.row(0)[2] == 0x00ff00);
    CHECK(s.row(0)[3] == 0x0000ff);
    CHECK(s.row(0)[4] == 0x848284);  // r 16 -> 0x84, g 32 -> 0x82, b 16 -> 0x84
}

TEST_CASE("VGA: absurd CRTC values render without touching memory outside VRAM", "[vga]") {
    VgaCore v(256 * 1024);
    v.post_text_mode(test_font());
    for (uint8_t index : {CR_H_DISP, CR_V_DISP_END, CR_OVERFLOW, CR_MAX_SCAN, CR_OFFSET, CR_START_HI, CR_START_LO,
                          CR_LINE_COMPARE, CR_CURSOR_HI, CR_CURSOR_LO, CR_MODE})
        crtc(v, index, 0xff);
    Surface s = render(v);  // text with 256 columns and huge offsets
    CHECK(s.width() > 0);
    gfx(v, GR_MISC, 0x01);  // graphics
    for (uint8_t mode : {0x00, 0x20, 0x40, 0x60}) {
        gfx(v, GR_MODE, mode);
        seq(v, SR_CLOCK_MODE, 0x08);
        Surface g = render(v);
        CHECK(g.width() <= Surface::kMaxWidth);
    }
    vbe(v, VBE_INDEX_BPP, 24);
    vbe(v, VBE_INDEX_XRES, 4000);
    vbe(v, VBE_INDEX_ENABLE, VBE_ENABLED);
    Surface g = render(v);
    CHECK(uint64_t(g.width()) * uint64_t(g.height()) * 3 <= 256 * 1024 + 4000 * 3);
}

TEST_CASE("VGA: video off (attribute index bit 5 clear) shows black", "[vga]") {
    VgaCore v(kVram);
    v.post_text_mode(test_font());
    v.port_read(IS1_RC);
    v.port_write(ATT_W, 0x00);  // palette loading: screen off
    Surface s = render(v);
    for (int y = 0; y < s.height(); y += 50)
        for (int x = 0; x < s.width(); x += 50) CHECK(s.row(y)[x] == 0);
}
