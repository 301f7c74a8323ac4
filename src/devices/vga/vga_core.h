#pragma once
// The VGA core both cards share: the standard registers (sequencer,
// graphics controller, CRTC, attribute controller, DAC), the legacy window
// 0xa0000-0xbffff with its planar, odd/even and chain-4 accesses, the
// Bochs VBE registers, and the renderer that turns VRAM into a Surface:
// text modes (font in plane 2, cursor, 9-dot cells), CGA 4-colour, planar
// 16-colour, chain-4 256-colour and VBE 8/15/16/24/32 bpp.
//
// VRAM is one anonymous mapping. The guest reaches it through the legacy
// window (MMIO, coalesced writes; a KVM slot aliasing VRAM in chain-4
// modes) and a card's linear framebuffer BAR (a KVM slot); both slots log
// dirty pages so only changed lines are redrawn.
//
// Threads: vCPUs call the port and memory accessors, the display thread or
// a monitor calls render(). One mutex guards the state; every VRAM access
// is masked or checked against the VRAM size.
#include "devices/device_memory.h"
#include "devices/vga/vga_state.h"
#include "ui/console.h"

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

namespace kestrel {

class VgaCore : public DisplaySource {
public:
    // `vram_size`: a power of two of at least 256 KiB.
    explicit VgaCore(uint64_t vram_size);
    ~VgaCore() override;
    VgaCore(const VgaCore&) = delete;
    VgaCore& operator=(const VgaCore&) = delete;

    uint8_t* vram() const { return vram_; }
    uint64_t vram_size() const { return vram_size_; }

    // Ports 0x3b0-0x3df, one byte at a time.
    uint8_t port_read(uint16_t port);
    void port_write(uint16_t port, uint8_t value);
    // Bochs VBE: register `index`, and the index/data port pair.
    uint16_t vbe_read(uint16_t index);
    void vbe_write(uint16_t index, uint16_t value);
    uint16_t vbe_index() const;
    void set_vbe_index(uint16_t index);
    // The legacy window, offset 0 = 0xa0000, byte by byte.
    void mem_read(uint32_t offset, std::span<uint8_t> data);
    void mem_write(uint32_t offset, std::span<const uint8_t> data);
    // The linear framebuffer when it cannot be a KVM slot (plain MMIO).
    void linear_read(uint64_t offset, std::span<uint8_t> data);
    void linear_write(uint64_t offset, std::span<const uint8_t> data);
    // QEMU's byte-order register: little-endian unless set to 0xbebebebe.
    void set_big_endian(bool big);
    bool big_endian() const;

    // Power-on state (all registers zero, VBE off). VRAM keeps its bytes.
    virtual void reset();
    // What the VGA BIOS leaves when it has set mode 3: 80x25 colour text,
    // its palette and registers, a blank screen, the 8x16 font in plane 2.
    void post_text_mode(std::span<const uint8_t> font8x16);

    // Where the guest reaches VRAM without exits, and the console to tell
    // of changes. Set once at realize, before the guest runs.
    void attach(std::shared_ptr<DeviceMemory> memory, Console* console);
    // The linear framebuffer now decodes at `base` (nullopt: nowhere);
    // `size` bytes of VRAM from offset 0.
    void map_linear(std::optional<uint64_t> base, uint64_t size);

    // DisplaySource
    void render(Surface& surface, bool full, std::vector<Rect>& damage) override;
    Wakeup wakeup() const override;

    VgaState state() const;

protected:
    // --- For a card that extends the VGA (Cirrus); called with lock_ held ---
    virtual uint8_t read_port_locked(uint16_t port);
    virtual void write_port_locked(uint16_t port, uint8_t value);
    virtual uint8_t read_mem_locked(uint32_t offset);
    virtual void write_mem_locked(uint32_t offset, uint8_t value);
    // Bits per pixel of an extended mode; 0 for the VGA's own modes.
    virtual unsigned bpp_locked() const;
    virtual void offsets_locked(uint32_t& line_offset, uint32_t& start_addr, uint32_t& line_compare) const;
    virtual void resolution_locked(int& width, int& height) const;
    // A hardware cursor over graphics line `y` (Cirrus).
    virtual void draw_cursor_line(uint32_t* line, int y, int width) { (void)line, (void)y, (void)width; }
    virtual bool cursor_on_line(int y) const { (void)y; return false; }
    virtual void frame_done() {}  // after a graphics frame was drawn
    // QEMU renders through a shadow surface, never straight from VRAM,
    // while this holds (Cirrus: its hardware cursor is on).
    virtual bool force_shadow_locked() const { return false; }
    // The legacy window's mapping changed (registers that choose it).
    void update_memory_access_locked();
    // Whether the linear framebuffer may be plain VRAM now (a KVM slot);
    // Cirrus says no while a blit takes its source from the aperture or an
    // address translation is on, and serves the range as MMIO instead.
    virtual bool linear_direct_locked() const { return true; }
    // Whether chain-4 modes alias the legacy window to VRAM (QEMU's std VGA
    // does; Cirrus decodes the window itself).
    virtual bool chain4_alias_locked() const { return true; }
    // Maps or unmaps the linear slot as linear_direct_locked() says.
    void update_linear_locked();
    // Marks VRAM bytes [offset, offset+len) as written by the device.
    void mark_dirty(uint64_t offset, uint64_t len);
    void changed();

    uint8_t sr_effective(unsigned index) const { return vbe_enabled() ? s_.sr_vbe[index] : s_.sr[index]; }
    bool vbe_enabled() const { return (s_.vbe_regs[vga::VBE_INDEX_ENABLE] & vga::VBE_ENABLED) != 0; }
    bool port_invalid(uint16_t port) const;

    mutable std::mutex lock_;
    VgaState s_;

private:
    struct RenderCache;
    void vbe_fixup_locked();
    void vbe_update_vga_locked();
    void vbe_write_locked(uint16_t index, uint16_t value);
    uint8_t retrace_locked();
    void attr_write_locked(uint8_t value);
    void crtc_write_locked(uint8_t value);
    void collect_dirty_locked();
    bool range_dirty(uint64_t addr, uint64_t len) const;
    void render_text_locked(Surface& surface, bool full, std::vector<Rect>& damage);
    void render_graphics_locked(Surface& surface, bool full, std::vector<Rect>& damage);
    bool shares_vram_locked(int width, int height, unsigned depth) const;
    void render_blank_locked(Surface& surface, bool full, std::vector<Rect>& damage);
    bool update_palette16_locked();
    bool update_palette256_locked();
    bool update_basic_params_locked();
    void draw_graphics_line(uint32_t* d, uint64_t addr, int width, int kind) const;
    uint8_t vram_byte(uint64_t addr) const { return vram_[addr & vram_mask_]; }
    uint32_t vram_dword(uint64_t addr) const;

    uint8_t* vram_ = nullptr;
    uint64_t vram_size_;
    uint64_t vram_mask_;
    uint32_t vbe_bank_mask_;
    std::vector<uint64_t> dirty_;  // one bit per VRAM page the device wrote
    std::shared_ptr<DeviceMemory> memory_;
    Console* console_ = nullptr;
    struct Slot {
        uint32_t handle;
        uint64_t vram_offset;
        uint64_t size;
    };
    std::optional<Slot> linear_slot_, chain4_slot_;
    std::optional<uint64_t> linear_base_;  // where the guest put the framebuffer BAR
    uint64_t linear_size_ = 0;
    std::optional<uint64_t> chain4_base_;
    bool coalesced_ = false;
    std::unique_ptr<RenderCache> cache_;
};

} // namespace kestrel
