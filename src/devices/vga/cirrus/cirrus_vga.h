#pragma once
// The Cirrus Logic CL-GD5446 as QEMU models it: the VGA core plus the
// extended sequencer, graphics and CRTC registers (unlock, extended modes
// up to 1280x1024 at 8/15/16/24/32 bpp, banking, the hidden DAC), the
// linear framebuffer and its apertures, MMIO registers, the hardware
// cursor, and the BitBLT engine (cirrus_blt.cpp). Every blit is checked
// against VRAM before it runs, and every VRAM byte it touches is masked
// into VRAM as well: a blit that would reach outside is refused.
#include "devices/vga/vga_core.h"

#include <array>
#include <cstdint>
#include <vector>

namespace kestrel {

namespace cirrus {
constexpr uint64_t kLinearBarSize = 32ull << 20;  // BAR 0: LFB, then the blit aperture at 16 MiB
constexpr uint64_t kBlitAperture = 16ull << 20, kBlitApertureSize = 4ull << 20;
constexpr uint64_t kMmioBarSize = 0x1000;         // BAR 1: VGA ports at 0, blit registers at 0x100
constexpr uint32_t kRealVram = 4u << 20;          // the 5446's 4 MiB, whatever vgamem_mb says
constexpr size_t kBltBufSize = 2048 * 4;          // one source line of a system-to-video blit
constexpr uint8_t kDeviceId = 0xb8;               // CR27: CL-GD5446
} // namespace cirrus

// The blitter's guest-visible state besides its GR registers.
struct CirrusBltState {
    int pixel_width = 1;
    int width = 0, height = 0;
    int dst_pitch = 0, src_pitch = 0;
    uint32_t fg = 0, bg = 0;
    uint32_t dst = 0, src = 0;
    uint8_t mode = 0, mode_ext = 0, rop = 0;
    enum class Op : uint8_t { Copy, CopyTransparent, PatternFill, ColorExpand, ColorExpandTransparent,
                              PatternExpand, PatternExpandTransparent } op = Op::Copy;
    bool backward = false;
    // A system-to-video blit waiting for its source bytes.
    std::array<uint8_t, cirrus::kBltBufSize> buf{};
    size_t buf_pos = 0, buf_end = 0;
    int32_t src_counter = 0;
};

struct CirrusState {
    uint8_t shadow_gr0 = 0, shadow_gr1 = 0;  // GR0/GR1 with all eight bits
    uint8_t hidden_dac_lock = 5, hidden_dac = 0;
    std::array<uint8_t, 48> hidden_palette{};  // the cursor's colours
    std::array<uint32_t, 2> bank_base{}, bank_limit{};
    uint32_t cursor_x = 0, cursor_y = 0;
    CirrusBltState blt;
};

class CirrusVga final : public VgaCore {
public:
    CirrusVga(uint64_t vram_size, bool blitter);

    void reset() override;
    // BAR 0 below 16 MiB (the LFB when it is not plain VRAM), the blit
    // aperture above, and BAR 1.
    void linear_io_read(uint64_t offset, std::span<uint8_t> data);
    void linear_io_write(uint64_t offset, std::span<const uint8_t> data);
    void mmio_read(uint64_t offset, std::span<uint8_t> data);
    void mmio_write(uint64_t offset, std::span<const uint8_t> data);
    CirrusState cirrus_state() const;

protected:
    uint8_t read_port_locked(uint16_t port) override;
    void write_port_locked(uint16_t port, uint8_t value) override;
    uint8_t read_mem_locked(uint32_t offset) override;
    void write_mem_locked(uint32_t offset, uint8_t value) override;
    unsigned bpp_locked() const override;
    void offsets_locked(uint32_t& line_offset, uint32_t& start_addr, uint32_t& line_compare) const override;
    void resolution_locked(int& width, int& height) const override;
    void draw_cursor_line(uint32_t* line, int y, int width) override;
    bool cursor_on_line(int y) const override;
    bool force_shadow_locked() const override;
    void frame_done() override;
    bool linear_direct_locked() const override;
    bool chain4_alias_locked() const override { return false; }

private:
    bool svga() const { return s_.sr[0x07] & 0x01; }
    uint8_t read_sr();
    void write_sr(uint8_t value);
    uint8_t read_gr(uint8_t index) const;
    void write_gr(uint8_t index, uint8_t value);
    uint8_t read_cr() const;
    void write_cr(uint8_t value);
    uint8_t read_blt_register(unsigned address) const;
    void write_blt_register(unsigned address, uint8_t value);
    void update_bank(unsigned bank);
    void memory_access_changed();
    uint8_t read_vram_translated(uint32_t addr);
    void write_vram_translated(uint32_t addr, uint8_t value);
    void write_mode45(uint32_t addr, uint8_t value, unsigned mode);
    bool blit_pending() const { return c_.blt.buf_pos != c_.blt.buf_end; }
    void feed_blit(uint8_t byte);
    // cirrus_blt.cpp
    void blt_control(uint8_t value);
    void blt_start();
    void blt_reset();
    bool blt_unsafe(bool dst_only) const;
    void blt_run(uint32_t dst, uint32_t src, int dst_pitch, int src_pitch, int width, int height, bool from_buf);
    bool blt_copy_line_fast(uint32_t dst, uint32_t src, int width, bool backward);
    bool blt_fill_line_fast(uint32_t dst, int width, const std::array<uint8_t, 4>& fg);
    void blt_solid_fill();
    bool blt_pattern_copy();
    bool blt_system_to_video();
    void blt_next_line();
    void blt_dirty(uint32_t dst, int pitch, int bytes, int lines);
    uint8_t blt_src(uint32_t addr, bool from_buf) const;
    uint32_t cursor_base() const;

    bool blitter_;
    uint32_t addr_mask_;
    CirrusState c_;
    int last_cursor_y_ = 0, last_cursor_size_ = 0;  // where the cursor was drawn last
};

} // namespace kestrel
