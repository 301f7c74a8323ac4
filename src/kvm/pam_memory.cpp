#include "kvm/pam_memory.h"

#include "kvm/vm.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <sys/mman.h>

namespace kestrel {
namespace {

uint8_t* map_buffer(uint64_t size) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("cannot map memory for the BIOS");
    return static_cast<uint8_t*>(p);
}

// Copies the image page by page, leaving its zero pages (SeaBIOS's 256 KiB
// image has ~70 KiB of them) untouched, so they cost no memory.
void copy_nonzero_pages(uint8_t* dest, std::span<const uint8_t> image) {
    static const uint8_t zeros[4096] = {};
    for (size_t at = 0; at < image.size(); at += sizeof zeros) {
        size_t n = std::min(sizeof zeros, image.size() - at);
        if (std::memcmp(image.data() + at, zeros, n) != 0) std::memcpy(dest + at, image.data() + at, n);
    }
}

uint64_t low_rom_size(const PamMemory::RomView& rom) { return rom.isa_start - PamMemory::START; }

} // namespace

PamMemory::PamMemory(Vm& vm, const GuestMemory& memory, std::span<const uint8_t> bios)
    : vm_(vm), memory_(memory), bios_size_(bios.size()) {
    if (bios.empty() || bios.size() % 0x10000 || bios.size() > 16 * 1024 * 1024)
        throw std::runtime_error("BIOS image size must be a non-zero multiple of 64 KiB up to 16 MiB");
    bios_ = map_buffer(bios_size_);
    copy_nonzero_pages(bios_, bios);
    uint64_t isa = std::min<uint64_t>(bios_size_, ISA_BIOS_MAX);
    rom_.isa_start = END - isa;
    rom_.isa = bios_ + bios_size_ - isa;
    rom_.low = map_buffer(low_rom_size(rom_));
    high_slot_ = vm_.add_memory_slot((4ull << 30) - bios_size_, bios_size_, bios_, false, true);
    if (!high_slot_) {
        munmap(bios_, bios_size_);
        munmap(rom_.low, low_rom_size(rom_));
        throw std::runtime_error("KVM refused the BIOS's memory slot");
    }
    std::lock_guard guard(lock_);
    apply_locked(layout(modes_, rom_, memory_));
}

PamMemory::~PamMemory() {
    for (auto& [slot, number] : mapped_) vm_.remove_memory_slot(number);
    mapped_.clear();
    if (high_slot_) vm_.remove_memory_slot(*high_slot_);
    high_slot_.reset();
    if (bios_) munmap(bios_, bios_size_);
    if (rom_.low) munmap(rom_.low, low_rom_size(rom_));
    bios_ = rom_.low = nullptr;
}

std::vector<PamMemory::Slot> PamMemory::layout(const Modes& modes, const RomView& rom, const GuestMemory& memory) {
    std::vector<Slot> slots;
    // Segments in address order: 1..12, then 0.
    for (unsigned n = 1; n <= SEGMENTS; ++n) {
        unsigned segment = n % SEGMENTS;
        uint64_t gpa = segment_start(segment), size = segment_size(segment);
        unsigned mode = modes[segment] & 3;
        Slot s{gpa, size, nullptr, mode <= 1};
        s.host = mode == 0 ? rom.host(gpa) : memory.host_ptr(gpa, size);
        if (!s.host) continue;  // no RAM there (a tiny -m): leave it unmapped
        if (!slots.empty()) {
            Slot& last = slots.back();
            if (last.gpa + last.size == gpa && last.host + last.size == s.host && last.read_only == s.read_only) {
                last.size += size;
                continue;
            }
        }
        slots.push_back(s);
    }
    return slots;
}

void PamMemory::apply_locked(const std::vector<Slot>& wanted) {
    for (auto& [slot, number] : mapped_) vm_.remove_memory_slot(number);
    mapped_.clear();
    for (const Slot& s : wanted) {
        auto number = vm_.add_memory_slot(s.gpa, s.size, s.host, false, s.read_only);
        if (number) mapped_.emplace_back(s, *number);
    }
}

void PamMemory::set_modes(const Modes& modes) {
    std::lock_guard guard(lock_);
    Modes masked{};
    for (unsigned i = 0; i < SEGMENTS; ++i) masked[i] = modes[i] & 3;
    if (masked == modes_) return;
    std::vector<Slot> before = layout(modes_, rom_, memory_), after = layout(masked, rom_, memory_);
    modes_ = masked;
    if (before != after) apply_locked(after);
}

PamMemory::Modes PamMemory::modes() const {
    std::lock_guard guard(lock_);
    return modes_;
}

} // namespace kestrel
