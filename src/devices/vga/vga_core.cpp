// The VGA core: registers, the legacy window and VBE. Rendering is in
// vga_render_text.cpp and vga_render_graphics.cpp; the render cache in
// vga_render.h.
#include "devices/vga/vga_core.h"

#include "devices/vga/vga_render.h"

#include <cstring>
#include <stdexcept>
#include <sys/mman.h>

namespace kestrel {

using namespace vga;

namespace {

// Bits software may set in each register (QEMU's sr_mask/gr_mask).
constexpr uint8_t kSrMask[8] = {0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0xff};
constexpr uint8_t kGrMask[16] = {0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f,
                                 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

// A plane mask (bit p = plane p) as a byte mask over a dword of four planes.
constexpr uint32_t plane_bytes(unsigned mask) {
    uint32_t v = 0;
    for (unsigned p = 0; p < 4; ++p)
        if (mask & (1u << p)) v |= 0xffu << (8 * p);
    return v;
}

} // namespace

VgaCore::VgaCore(uint64_t vram_size)
    : vram_size_(vram_size), vram_mask_(vram_size - 1), vbe_bank_mask_(uint32_t((vram_size >> 16) - 1)),
      dirty_((vram_size / DeviceMemory::kPageSize + 63) / 64), cache_(std::make_unique<RenderCache>()) {
    if (vram_size < 256 * 1024 || (vram_size & (vram_size - 1)) != 0)
        throw std::invalid_argument("VGA memory must be a power of two of at least 256 KiB");
    void* p = mmap(nullptr, vram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("cannot allocate " + std::to_string(vram_size >> 20) + " MiB of VRAM");
    // A text-mode guest touches a few KiB of VRAM; with transparent huge
    // pages "always" (Debian's default) that would be a 2 MiB page each.
    madvise(p, vram_size, MADV_NOHUGEPAGE);
    vram_ = static_cast<uint8_t*>(p);
    reset();
}

VgaCore::~VgaCore() {
    if (memory_) {
        if (linear_slot_) memory_->unmap(linear_slot_->handle);
        if (chain4_slot_) memory_->unmap(chain4_slot_->handle);
        if (coalesced_) memory_->remove_coalesced(kLegacyBase, kLegacySize);
    }
    munmap(vram_, vram_size_);
}

void VgaCore::attach(std::shared_ptr<DeviceMemory> memory, Console* console) {
    std::lock_guard guard(lock_);
    memory_ = std::move(memory);
    console_ = console;
    if (memory_) coalesced_ = memory_->add_coalesced(kLegacyBase, kLegacySize);
    update_memory_access_locked();
}

void VgaCore::changed() {
    if (console_) console_->changed();
}

VgaState VgaCore::state() const {
    std::lock_guard guard(lock_);
    return s_;
}

// --- Reset and the VGA BIOS's mode 3 ---

void VgaCore::reset() {
    std::lock_guard guard(lock_);
    s_ = VgaState{};
    s_.vbe_regs[VBE_INDEX_ID] = VBE_ID5;
    *cache_ = RenderCache{};
    update_memory_access_locked();
    changed();
}

namespace {

// The 64-entry EGA palette mode 3 loads into the DAC (6-bit values).
constexpr uint8_t kEgaPalette[64][3] = {
    {0x00, 0x00, 0x00}, {0x00, 0x00, 0x2a}, {0x00, 0x2a, 0x00}, {0x00, 0x2a, 0x2a}, {0x2a, 0x00, 0x00},
    {0x2a, 0x00, 0x2a}, {0x2a, 0x2a, 0x00}, {0x2a, 0x2a, 0x2a}, {0x00, 0x00, 0x15}, {0x00, 0x00, 0x3f},
    {0x00, 0x2a, 0x15}, {0x00, 0x2a, 0x3f}, {0x2a, 0x00, 0x15}, {0x2a, 0x00, 0x3f}, {0x2a, 0x2a, 0x15},
    {0x2a, 0x2a, 0x3f}, {0x00, 0x15, 0x00}, {0x00, 0x15, 0x2a}, {0x00, 0x3f, 0x00}, {0x00, 0x3f, 0x2a},
    {0x2a, 0x15, 0x00}, {0x2a, 0x15, 0x2a}, {0x2a, 0x3f, 0x00}, {0x2a, 0x3f, 0x2a}, {0x00, 0x15, 0x15},
    {0x00, 0x15, 0x3f}, {0x00, 0x3f, 0x15}, {0x00, 0x3f, 0x3f}, {0x2a, 0x15, 0x15}, {0x2a, 0x15, 0x3f},
    {0x2a, 0x3f, 0x15}, {0x2a, 0x3f, 0x3f}, {0x15, 0x00, 0x00}, {0x15, 0x00, 0x2a}, {0x15, 0x2a, 0x00},
    {0x15, 0x2a, 0x2a}, {0x3f, 0x00, 0x00}, {0x3f, 0x00, 0x2a}, {0x3f, 0x2a, 0x00}, {0x3f, 0x2a, 0x2a},
    {0x15, 0x00, 0x15}, {0x15, 0x00, 0x3f}, {0x15, 0x2a, 0x15}, {0x15, 0x2a, 0x3f}, {0x3f, 0x00, 0x15},
    {0x3f, 0x00, 0x3f}, {0x3f, 0x2a, 0x15}, {0x3f, 0x2a, 0x3f}, {0x15, 0x15, 0x00}, {0x15, 0x15, 0x2a},
    {0x15, 0x3f, 0x00}, {0x15, 0x3f, 0x2a}, {0x3f, 0x15, 0x00}, {0x3f, 0x15, 0x2a}, {0x3f, 0x3f, 0x00},
    {0x3f, 0x3f, 0x2a}, {0x15, 0x15, 0x15}, {0x15, 0x15, 0x3f}, {0x15, 0x3f, 0x15}, {0x15, 0x3f, 0x3f},
    {0x3f, 0x15, 0x15}, {0x3f, 0x15, 0x3f}, {0x3f, 0x3f, 0x15}, {0x3f, 0x3f, 0x3f},
};
// Mode 3's registers: sequencer 1-4, CRTC 0-0x18, attribute 0-0x13,
// graphics 0-8, misc output (IBM's values, which every VGA BIOS loads).
constexpr uint8_t kMode3Seq[4] = {0x00, 0x03, 0x00, 0x02};
constexpr uint8_t kMode3Crtc[25] = {0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
                                    0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff};
constexpr uint8_t kMode3Attr[20] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39,
                                    0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08};
constexpr uint8_t kMode3Gfx[9] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff};
constexpr uint8_t kMode3Misc = 0x67;

} // namespace

void VgaCore::post_text_mode(std::span<const uint8_t> font8x16) {
    std::lock_guard guard(lock_);
    for (unsigned i = 0; i < 64; ++i) std::memcpy(&s_.palette[i * 3], kEgaPalette[i], 3);
    std::fill(s_.palette.begin() + 64 * 3, s_.palette.end(), 0);
    std::copy(std::begin(kMode3Attr), std::end(kMode3Attr), s_.ar.begin());
    s_.ar[AR_COLOR_PAGE] = 0;
    s_.sr[SR_RESET] = 0x03;
    for (unsigned i = 0; i < 4; ++i) s_.sr[i + 1] = kMode3Seq[i];
    for (unsigned i = 0; i < 9; ++i) s_.gr[i] = kMode3Gfx[i];
    for (unsigned i = 0; i < 25; ++i) s_.cr[i] = kMode3Crtc[i];
    s_.misc_output = kMode3Misc;
    s_.ar_index = 0x20;  // video on
    s_.ar_flip_flop = false;
    // The text page (0xb8000, 32 KiB) blank: space, grey on black.
    for (uint32_t cell = 0; cell < 0x4000; ++cell) {
        vram_[cell * 4] = 0x20;
        vram_[cell * 4 + 1] = 0x07;
    }
    // The font: 32 bytes per character in plane 2 at its start.
    for (size_t ch = 0; ch < 256 && (ch + 1) * 16 <= font8x16.size(); ++ch)
        for (unsigned line = 0; line < 32; ++line)
            vram_[(ch * 32 + line) * 4 + 2] = line < 16 ? font8x16[ch * 16 + line] : 0;
    s_.plane_updated = 0x0f;
    mark_dirty(0, 0x40000);
    update_memory_access_locked();
    changed();
}

// --- Ports ---

bool VgaCore::port_invalid(uint16_t port) const {
    if (s_.misc_output & MIS_COLOR) return port >= 0x3b0 && port <= 0x3bf;
    return port >= 0x3d0 && port <= 0x3df;
}

uint8_t VgaCore::port_read(uint16_t port) {
    std::lock_guard guard(lock_);
    return read_port_locked(port);
}

void VgaCore::port_write(uint16_t port, uint8_t value) {
    {
        std::lock_guard guard(lock_);
        write_port_locked(port, value);
    }
    changed();
}

// QEMU's "dumb" retrace: each read flips the retrace and display bits, so
// a guest polling for either sees it soon.
uint8_t VgaCore::retrace_locked() {
    s_.st01 ^= ST01_V_RETRACE | ST01_DISP_ENABLE;
    return s_.st01;
}

uint8_t VgaCore::read_port_locked(uint16_t port) {
    if (port_invalid(port)) return 0xff;
    switch (port) {
    case ATT_W: return s_.ar_flip_flop ? 0 : s_.ar_index;
    case ATT_R: {
        unsigned index = s_.ar_index & 0x1f;
        return index < AR_COUNT ? s_.ar[index] : 0;
    }
    case ST00: return s_.st00;
    case SEQ_I: return s_.sr_index;
    case SEQ_D: return s_.sr[s_.sr_index];
    case PEL_IR: return s_.dac_state;
    case PEL_IW: return s_.dac_write_index;
    case PEL_D: {
        uint8_t v = s_.palette[s_.dac_read_index * 3u + s_.dac_sub_index];
        if (++s_.dac_sub_index == 3) {
            s_.dac_sub_index = 0;
            ++s_.dac_read_index;
        }
        return v;
    }
    case FTC_R: return s_.feature_control;
    case MIS_R: return s_.misc_output;
    case GFX_I: return s_.gr_index;
    case GFX_D: return s_.gr[s_.gr_index];
    case CRT_IM:
    case CRT_IC: return s_.cr_index;
    case CRT_DM:
    case CRT_DC: return s_.cr[s_.cr_index];
    case IS1_RM:
    case IS1_RC: s_.ar_flip_flop = false; return retrace_locked();
    default: return 0;
    }
}

void VgaCore::attr_write_locked(uint8_t value) {
    if (!s_.ar_flip_flop) {
        s_.ar_index = value & 0x3f;
    } else {
        unsigned index = s_.ar_index & 0x1f;
        if (index < 16) s_.ar[index] = value & 0x3f;
        else if (index == AR_MODE) s_.ar[index] = value & ~0x10;
        else if (index == AR_OVERSCAN) s_.ar[index] = value;
        else if (index == AR_PLANE_ENABLE) s_.ar[index] = value & ~0xc0;
        else if (index == AR_PEL || index == AR_COLOR_PAGE) s_.ar[index] = value & ~0xf0;
    }
    s_.ar_flip_flop = !s_.ar_flip_flop;
}

void VgaCore::crtc_write_locked(uint8_t value) {
    // CR11 bit 7 protects CR0-CR7, except CR7's line compare bit 4.
    if ((s_.cr[CR_V_SYNC_END] & CR11_LOCK_CR0_CR7) && s_.cr_index <= CR_OVERFLOW) {
        if (s_.cr_index == CR_OVERFLOW) s_.cr[CR_OVERFLOW] = uint8_t((s_.cr[CR_OVERFLOW] & ~0x10) | (value & 0x10));
        return;
    }
    s_.cr[s_.cr_index] = value;
}

void VgaCore::write_port_locked(uint16_t port, uint8_t value) {
    if (port_invalid(port)) return;
    switch (port) {
    case ATT_W: attr_write_locked(value); break;
    case MIS_W: s_.misc_output = value & ~0x10; break;
    case SEQ_I: s_.sr_index = value & 7; break;
    case SEQ_D:
        s_.sr[s_.sr_index] = value & kSrMask[s_.sr_index & 7];
        vbe_update_vga_locked();
        update_memory_access_locked();
        break;
    case PEL_IR:
        s_.dac_read_index = value;
        s_.dac_sub_index = 0;
        s_.dac_state = 3;
        break;
    case PEL_IW:
        s_.dac_write_index = value;
        s_.dac_sub_index = 0;
        s_.dac_state = 0;
        break;
    case PEL_D:
        s_.dac_cache[s_.dac_sub_index] = value;
        if (++s_.dac_sub_index == 3) {
            std::memcpy(&s_.palette[s_.dac_write_index * 3u], s_.dac_cache.data(), 3);
            s_.dac_sub_index = 0;
            ++s_.dac_write_index;
        }
        break;
    case GFX_I: s_.gr_index = value & 0x0f; break;
    case GFX_D:
        s_.gr[s_.gr_index] = value & kGrMask[s_.gr_index & 0x0f];
        vbe_update_vga_locked();
        update_memory_access_locked();
        break;
    case CRT_IM:
    case CRT_IC: s_.cr_index = value; break;
    case CRT_DM:
    case CRT_DC: crtc_write_locked(value); break;
    case IS1_RM:
    case IS1_RC: s_.feature_control = value & 0x10; break;
    default: break;
    }
}

// --- The legacy window ---

void VgaCore::mem_read(uint32_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) data[i] = read_mem_locked(uint32_t(offset + i));
}

void VgaCore::mem_write(uint32_t offset, std::span<const uint8_t> data) {
    {
        std::lock_guard guard(lock_);
        for (size_t i = 0; i < data.size(); ++i) write_mem_locked(uint32_t(offset + i), data[i]);
    }
    changed();
}

void VgaCore::linear_read(uint64_t offset, std::span<uint8_t> data) {
    for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < vram_size_ ? vram_[offset + i] : 0xff;
}

void VgaCore::linear_write(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < data.size(); ++i)
        if (offset + i < vram_size_) vram_[offset + i] = data[i];
    mark_dirty(offset, data.size());
    changed();
}

// The window's offset as a VRAM address for the memory map the graphics
// controller selects; nullopt outside the selected range.
static std::optional<uint32_t> window_address(const VgaState& s, uint32_t offset) {
    offset &= 0x1ffff;
    switch ((s.gr[GR_MISC] >> 2) & 3) {
    case 0: return offset;
    case 1: return offset < 0x10000 ? std::optional<uint32_t>(offset + s.bank_offset) : std::nullopt;
    case 2: return offset >= 0x10000 && offset < 0x18000 ? std::optional<uint32_t>(offset - 0x10000) : std::nullopt;
    default: return offset >= 0x18000 ? std::optional<uint32_t>(offset - 0x18000) : std::nullopt;
    }
}

uint8_t VgaCore::read_mem_locked(uint32_t offset) {
    auto a = window_address(s_, offset);
    if (!a) return 0xff;
    uint64_t addr = *a;
    if (sr_effective(SR_MEMORY_MODE) & SR04_CHAIN4) return addr < vram_size_ ? vram_[addr] : 0xff;
    if (s_.gr[GR_MODE] & 0x10) {  // odd/even (text)
        unsigned plane = (s_.gr[GR_PLANE_READ] & 2) | (addr & 1);
        uint64_t at = ((addr & ~uint64_t(1)) << 1) | plane;
        return at < vram_size_ ? vram_[at] : 0xff;
    }
    if (addr * 4 + 4 > vram_size_) return 0xff;
    std::memcpy(&s_.latch, vram_ + addr * 4, 4);
    if (!(s_.gr[GR_MODE] & 0x08)) return uint8_t(s_.latch >> (8 * (s_.gr[GR_PLANE_READ] & 3)));
    // Read mode 1: a bit is set where every plane in the compare mask
    // matches the compare value.
    uint32_t diff = (s_.latch ^ plane_bytes(s_.gr[GR_COMPARE_VALUE])) & plane_bytes(s_.gr[GR_COMPARE_MASK]);
    diff |= diff >> 16;
    diff |= diff >> 8;
    return uint8_t(~diff);
}

void VgaCore::write_mem_locked(uint32_t offset, uint8_t value) {
    auto a = window_address(s_, offset);
    if (!a) return;
    uint64_t addr = *a;
    uint8_t plane_write = sr_effective(SR_PLANE_WRITE);
    if (sr_effective(SR_MEMORY_MODE) & SR04_CHAIN4) {
        unsigned mask = 1u << (addr & 3);
        if (!(plane_write & mask) || addr >= vram_size_) return;
        vram_[addr] = value;
        s_.plane_updated |= uint8_t(mask);
        mark_dirty(addr, 1);
        return;
    }
    if (s_.gr[GR_MODE] & 0x10) {  // odd/even (text)
        unsigned plane = (s_.gr[GR_PLANE_READ] & 2) | (addr & 1);
        unsigned mask = 1u << plane;
        uint64_t at = ((addr & ~uint64_t(1)) << 1) | plane;
        if (!(plane_write & mask) || at >= vram_size_) return;
        vram_[at] = value;
        s_.plane_updated |= uint8_t(mask);
        mark_dirty(at, 1);
        return;
    }
    if (addr * 4 + 4 > vram_size_) return;
    uint32_t v = value, bit_mask = 0;
    unsigned rotate = s_.gr[GR_DATA_ROTATE] & 7;
    switch (s_.gr[GR_MODE] & 3) {
    case 0: {
        v = ((v >> rotate) | (v << (8 - rotate))) & 0xff;
        v *= 0x01010101u;
        uint32_t set_mask = plane_bytes(s_.gr[GR_SR_ENABLE]);
        v = (v & ~set_mask) | (plane_bytes(s_.gr[GR_SR_VALUE]) & set_mask);
        bit_mask = s_.gr[GR_BIT_MASK];
        break;
    }
    case 1: v = s_.latch; goto store;
    case 2:
        v = plane_bytes(v & 0x0f);
        bit_mask = s_.gr[GR_BIT_MASK];
        break;
    case 3:
        v = ((v >> rotate) | (v << (8 - rotate))) & 0xff;
        bit_mask = s_.gr[GR_BIT_MASK] & v;
        v = plane_bytes(s_.gr[GR_SR_VALUE]);
        break;
    }
    switch (s_.gr[GR_DATA_ROTATE] >> 3) {
    case 1: v &= s_.latch; break;
    case 2: v |= s_.latch; break;
    case 3: v ^= s_.latch; break;
    default: break;
    }
    bit_mask *= 0x01010101u;
    v = (v & bit_mask) | (s_.latch & ~bit_mask);
store: {
    uint32_t write_mask = plane_bytes(plane_write);
    uint32_t old;
    std::memcpy(&old, vram_ + addr * 4, 4);
    uint32_t now = (old & ~write_mask) | (v & write_mask);
    std::memcpy(vram_ + addr * 4, &now, 4);
    s_.plane_updated |= plane_write & 0x0f;
    mark_dirty(addr * 4, 4);
}
}

// In chain-4 mode with every plane writable the window is plain VRAM: a
// KVM slot aliasing it (dirty-logged) lets the guest write without exits.
void VgaCore::update_memory_access_locked() {
    if (!memory_) return;
    std::optional<uint64_t> base;
    uint64_t offset = 0, size = 0;
    if (chain4_alias_locked() && (sr_effective(SR_PLANE_WRITE) & SR02_ALL_PLANES) == SR02_ALL_PLANES &&
        (sr_effective(SR_MEMORY_MODE) & SR04_CHAIN4)) {
        switch ((s_.gr[GR_MISC] >> 2) & 3) {
        case 0: base = 0xa0000, size = 0x20000; break;
        case 1: base = 0xa0000, size = 0x10000, offset = s_.bank_offset; break;
        case 2: base = 0xb0000, size = 0x8000; break;
        default: base = 0xb8000, size = 0x8000; break;
        }
        if (offset + size > vram_size_) base.reset();
    }
    if (chain4_slot_ && (!base || chain4_base_ != base || chain4_slot_->vram_offset != offset ||
                         chain4_slot_->size != size)) {
        collect_dirty_locked();
        memory_->unmap(chain4_slot_->handle);
        chain4_slot_.reset();
        chain4_base_.reset();
        s_.plane_updated = 0x0f;
    }
    if (base && !chain4_slot_) {
        if (auto handle = memory_->map(*base, size, vram_ + offset, true)) {
            chain4_slot_ = Slot{*handle, offset, size};
            chain4_base_ = base;
        }
    }
}

void VgaCore::map_linear(std::optional<uint64_t> base, uint64_t size) {
    {
        std::lock_guard guard(lock_);
        if (linear_slot_ && linear_base_ != base) {
            collect_dirty_locked();
            memory_->unmap(linear_slot_->handle);
            linear_slot_.reset();
        }
        linear_base_ = base;
        linear_size_ = std::min(size, vram_size_);
        update_linear_locked();
    }
    changed();
}

void VgaCore::update_linear_locked() {
    if (!memory_) return;
    bool wanted = linear_base_ && linear_direct_locked();
    if (linear_slot_ && !wanted) {
        collect_dirty_locked();
        memory_->unmap(linear_slot_->handle);
        linear_slot_.reset();
    }
    if (wanted && !linear_slot_) {
        if (auto handle = memory_->map(*linear_base_, linear_size_, vram_, true))
            linear_slot_ = Slot{*handle, 0, linear_size_};
    }
}

// --- Dirty pages ---

void VgaCore::mark_dirty(uint64_t offset, uint64_t len) {
    if (len == 0 || offset >= vram_size_) return;
    uint64_t last = std::min(offset + len, vram_size_) - 1;
    for (uint64_t page = offset / DeviceMemory::kPageSize; page <= last / DeviceMemory::kPageSize; ++page)
        dirty_[page / 64] |= 1ull << (page % 64);
}

// Folds KVM's dirty logs of the slots into dirty_.
void VgaCore::collect_dirty_locked() {
    if (!memory_) return;
    for (const auto& slot : {linear_slot_, chain4_slot_}) {
        if (!slot) continue;
        uint64_t pages = slot->size / DeviceMemory::kPageSize;
        std::vector<uint64_t> bits((pages + 63) / 64);
        if (!memory_->take_dirty(slot->handle, bits)) {
            mark_dirty(slot->vram_offset, slot->size);
            continue;
        }
        uint64_t first = slot->vram_offset / DeviceMemory::kPageSize;
        for (uint64_t p = 0; p < pages; ++p)
            if (bits[p / 64] & (1ull << (p % 64))) dirty_[(first + p) / 64] |= 1ull << ((first + p) % 64);
    }
}

bool VgaCore::range_dirty(uint64_t addr, uint64_t len) const {
    if (len == 0) return false;
    uint64_t first = (addr & vram_mask_) / DeviceMemory::kPageSize;
    uint64_t last = ((addr + len - 1) & vram_mask_) / DeviceMemory::kPageSize;
    uint64_t pages = vram_size_ / DeviceMemory::kPageSize;
    for (uint64_t p = first;; p = (p + 1) % pages) {
        if (dirty_[p / 64] & (1ull << (p % 64))) return true;
        if (p == last) return false;
    }
}

uint32_t VgaCore::vram_dword(uint64_t addr) const {
    uint32_t v;
    std::memcpy(&v, vram_ + (addr & vram_mask_ & ~uint64_t(3)), 4);
    return v;
}

void VgaCore::set_big_endian(bool big) {
    std::lock_guard guard(lock_);
    s_.big_endian_fb = big;
    changed();
}

bool VgaCore::big_endian() const {
    std::lock_guard guard(lock_);
    return s_.big_endian_fb;
}

} // namespace kestrel
