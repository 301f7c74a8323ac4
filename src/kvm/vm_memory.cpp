// The VM's memory slots: guest RAM (with the legacy VGA window left out, as
// on a PC it is MMIO), device memory mapped at run time with optional dirty
// logging, and the coalesced MMIO ring.
#include "kvm/pc_memory_map.h"
#include "kvm/vm.h"

#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>

namespace kestrel {
namespace {

constexpr uint64_t kPageSize = 4096;

bool set_slot(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size, uint8_t* host, uint32_t flags) {
    kvm_userspace_memory_region region{};
    region.slot = slot;
    region.flags = flags;
    region.guest_phys_addr = gpa;
    region.memory_size = size;
    region.userspace_addr = reinterpret_cast<uint64_t>(host);
    return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) == 0;
}

} // namespace

void Vm::map_memory(const GuestMemory& memory, bool shadowed_bios_area) {
    const uint64_t hole_end = shadowed_bios_area ? pc::BIOS_AREA_END : pc::VGA_HOLE_END;
    std::lock_guard guard(slots_lock_);
    auto map = [&](uint64_t gpa, uint64_t size, uint8_t* host) {
        if (size == 0) return;
        if (!set_slot(fd_.get(), ram_slots_++, gpa, size, host, 0))
            throw std::runtime_error(std::string("KVM_SET_USER_MEMORY_REGION: ") + std::strerror(errno));
    };
    for (const auto& r : memory.regions()) {
        bool has_vga_window = r.gpa <= pc::VGA_HOLE_START && r.gpa + r.size >= hole_end;
        if (!has_vga_window) {
            map(r.gpa, r.size, r.host);
            continue;
        }
        uint64_t below = pc::VGA_HOLE_START - r.gpa;
        map(r.gpa, below, r.host);
        map(hole_end, r.gpa + r.size - hole_end, r.host + (hole_end - r.gpa));
    }
}

std::optional<uint32_t> Vm::add_memory_slot(uint64_t gpa, uint64_t size, uint8_t* host, bool log_dirty,
                                            bool read_only) {
    std::lock_guard guard(slots_lock_);
    uint32_t slot = ram_slots_;
    while (device_slots_.count(slot)) ++slot;
    uint32_t flags = (log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0) | (read_only ? KVM_MEM_READONLY : 0);
    if (!set_slot(fd_.get(), slot, gpa, size, host, flags)) {
        spdlog::warn("KVM_SET_USER_MEMORY_REGION at {:#x} ({:#x} bytes): {}", gpa, size, std::strerror(errno));
        return std::nullopt;
    }
    device_slots_[slot] = size;
    if (log_dirty) logged_slots_.insert(slot);
    return slot;
}

void Vm::remove_memory_slot(uint32_t slot) {
    std::lock_guard guard(slots_lock_);
    if (!device_slots_.erase(slot)) return;
    logged_slots_.erase(slot);
    if (!set_slot(fd_.get(), slot, 0, 0, nullptr, 0))
        spdlog::warn("KVM_SET_USER_MEMORY_REGION (removing slot {}): {}", slot, std::strerror(errno));
}

bool Vm::take_dirty_log(uint32_t slot, std::span<uint64_t> bitmap) {
    {
        std::lock_guard guard(slots_lock_);
        auto it = device_slots_.find(slot);
        if (it == device_slots_.end() || !logged_slots_.count(slot)) return false;
        uint64_t pages = (it->second + kPageSize - 1) / kPageSize;
        if (bitmap.size() * 64 < pages) return false;
    }
    kvm_dirty_log log{};
    log.slot = slot;
    log.dirty_bitmap = bitmap.data();
    return ioctl(fd_.get(), KVM_GET_DIRTY_LOG, &log) == 0;
}

bool Vm::add_coalesced_mmio(uint64_t gpa, uint64_t size) {
    kvm_coalesced_mmio_zone zone{};
    zone.addr = gpa;
    zone.size = uint32_t(size);
    if (ioctl(fd_.get(), KVM_REGISTER_COALESCED_MMIO, &zone) == 0) return true;
    spdlog::debug("KVM_REGISTER_COALESCED_MMIO at {:#x}: {}", gpa, std::strerror(errno));
    return false;
}

bool Vm::add_coalesced_pio(uint16_t port, uint16_t size) {
    if (kvm_.check_extension(KVM_CAP_COALESCED_PIO) <= 0) return false;
    kvm_coalesced_mmio_zone zone{};
    zone.addr = port;
    zone.size = size;
    zone.pio = 1;
    if (ioctl(fd_.get(), KVM_REGISTER_COALESCED_MMIO, &zone) == 0) return true;
    spdlog::debug("KVM_REGISTER_COALESCED_MMIO for port {:#x}: {}", port, std::strerror(errno));
    return false;
}

void Vm::remove_coalesced_mmio(uint64_t gpa, uint64_t size) {
    kvm_coalesced_mmio_zone zone{};
    zone.addr = gpa;
    zone.size = uint32_t(size);
    ioctl(fd_.get(), KVM_UNREGISTER_COALESCED_MMIO, &zone);
}

// KVM fills entries and advances `last`; we consume from `first`.
void Vm::drain_coalesced_writes(const CoalescedWriter& deliver) {
    kvm_coalesced_mmio_ring* ring = coalesced_ring_;
    if (!ring) return;
    std::lock_guard guard(coalesced_lock_);
    // KVM_COALESCED_MMIO_MAX for 4 KiB pages (the macro needs PAGE_SIZE).
    constexpr uint32_t kEntries =
        uint32_t((kPageSize - sizeof(kvm_coalesced_mmio_ring)) / sizeof(kvm_coalesced_mmio));
    while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
        const kvm_coalesced_mmio& entry = ring->coalesced_mmio[ring->first % kEntries];
        uint32_t len = entry.len > 8 ? 8 : entry.len;
        deliver(entry.pio ? Space::Pio : Space::Mmio, entry.phys_addr, {entry.data, len});
        __atomic_store_n(&ring->first, (ring->first + 1) % kEntries, __ATOMIC_RELEASE);
    }
}

} // namespace kestrel
