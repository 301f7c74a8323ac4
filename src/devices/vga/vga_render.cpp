// Choosing what to draw: blank (video off), text or graphics; and when the
// display must look again without being told.
#include "devices/vga/vga_render.h"

namespace kestrel {

using namespace vga;

void VgaCore::render(Surface& surface, bool full, std::vector<Rect>& damage) {
    // Writes queued in the coalesced ring come first.
    if (memory_) memory_->flush_coalesced();
    std::lock_guard guard(lock_);
    RenderCache::Mode mode;
    // Attribute index bit 5 clear: the palette is being loaded, video off.
    if (!(s_.ar_index & 0x20))
        mode = RenderCache::Mode::Blank;
    else
        mode = (s_.gr[GR_MISC] & GR06_GRAPHICS) ? RenderCache::Mode::Graphics : RenderCache::Mode::Text;
    if (mode != cache_->mode) {
        cache_->mode = mode;
        full = true;
    }
    if (surface.width() == 0) surface.resize(640, 480);
    collect_dirty_locked();
    switch (mode) {
    case RenderCache::Mode::Blank: render_blank_locked(surface, full, damage); break;
    case RenderCache::Mode::Text: render_text_locked(surface, full, damage); break;
    default: render_graphics_locked(surface, full, damage); break;
    }
    std::fill(dirty_.begin(), dirty_.end(), 0);
}

void VgaCore::render_blank_locked(Surface& surface, bool full, std::vector<Rect>& damage) {
    if (!full) return;
    std::fill_n(surface.data(), size_t(surface.width()) * size_t(surface.height()), 0u);
    damage.push_back(surface.bounds());
}

DisplaySource::Wakeup VgaCore::wakeup() const {
    std::lock_guard guard(lock_);
    Wakeup w;
    bool graphics = cache_->mode == RenderCache::Mode::Graphics;
    // The guest may write without exits: queued legacy writes, or VRAM
    // through a KVM slot while a graphics mode shows it.
    w.poll = coalesced_ || (graphics && (linear_slot_ || chain4_slot_));
    if (cache_->mode == RenderCache::Mode::Text && cache_->cursor_enabled)
        w.timer_ms = RenderCache::kCursorHalfPeriodMs;
    return w;
}

bool VgaCore::update_basic_params_locked() {
    uint32_t line_offset, start_addr, line_compare;
    offsets_locked(line_offset, start_addr, line_compare);
    if (line_offset == cache_->line_offset && start_addr == cache_->start_addr && line_compare == cache_->line_compare)
        return false;
    cache_->line_offset = line_offset;
    cache_->start_addr = start_addr;
    cache_->line_compare = line_compare;
    return true;
}

// The 16 attribute palette entries through the colour page to the DAC.
bool VgaCore::update_palette16_locked() {
    bool changed_any = false;
    for (unsigned i = 0; i < 16; ++i) {
        unsigned v = s_.ar[i];
        if (s_.ar[AR_MODE] & 0x80)
            v = ((s_.ar[AR_COLOR_PAGE] & 0xf) << 4) | (v & 0xf);
        else
            v = ((s_.ar[AR_COLOR_PAGE] & 0xc) << 4) | (v & 0x3f);
        v *= 3;
        uint32_t col = rgb(c6_to_8(s_.palette[v]), c6_to_8(s_.palette[v + 1]), c6_to_8(s_.palette[v + 2]));
        if (col != cache_->palette[i]) {
            cache_->palette[i] = col;
            changed_any = true;
        }
    }
    return changed_any;
}

bool VgaCore::update_palette256_locked() {
    bool changed_any = false;
    for (unsigned i = 0; i < 256; ++i) {
        const uint8_t* p = &s_.palette[i * 3];
        uint32_t col = s_.dac_8bit ? rgb(p[0], p[1], p[2]) : rgb(c6_to_8(p[0]), c6_to_8(p[1]), c6_to_8(p[2]));
        if (col != cache_->palette[i]) {
            cache_->palette[i] = col;
            changed_any = true;
        }
    }
    return changed_any;
}

} // namespace kestrel
