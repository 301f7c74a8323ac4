#include "virtio/virtqueue.h"

#include <atomic>
#include <cstring>
#include <spdlog/spdlog.h>

namespace kestrel {
namespace {

constexpr uint16_t kDescFNext = 1;
constexpr uint16_t kDescFWrite = 2;
constexpr uint16_t kDescFIndirect = 4;
constexpr uint16_t kAvailFNoInterrupt = 1;
constexpr uint16_t kUsedFNoNotify = 1;
constexpr uint32_t kMaxQueueSize = 32768;
constexpr uint64_t kDescSize = 16;

// The rings are shared with vCPUs that run concurrently: every access to
// them is atomic (the builtins work on plain guest memory).
template <typename T> T load(const uint8_t* p, int order = __ATOMIC_RELAXED) {
    return __atomic_load_n(reinterpret_cast<const T*>(p), order);
}
template <typename T> void store(uint8_t* p, T v, int order = __ATOMIC_RELAXED) {
    __atomic_store_n(reinterpret_cast<T*>(p), v, order);
}

// VIRTIO 1.2 §2.7.10: has `event` been passed when moving old -> new_idx?
bool need_event(uint16_t event, uint16_t new_idx, uint16_t old) {
    return uint16_t(new_idx - event - 1) < uint16_t(new_idx - old);
}

} // namespace

// Where the walk through one chain is: which table, how far, what was seen.
struct Virtqueue::WalkState {
    const uint8_t* table;
    uint32_t table_size;
    uint32_t count = 0;     // buffer descriptors seen, all tables together
    bool in_indirect = false;
    bool seen_writable = false;
};

Virtqueue::Virtqueue(const GuestMemory& memory, const VirtqueueLayout& layout, std::string name)
    : memory_(memory), layout_(layout), name_(std::move(name)) {
    if (!map_rings(memory)) {
        set_broken(fmt::format("rings outside guest RAM or misaligned (size {}, desc {:#x}, "
                               "avail {:#x}, used {:#x})",
                               layout.size, layout.desc, layout.avail, layout.used));
    }
}

bool Virtqueue::map_rings(const GuestMemory& memory) {
    const uint32_t n = layout_.size;
    if (n == 0 || n > kMaxQueueSize || (n & (n - 1)) != 0) return false;
    if (layout_.desc % 16 || layout_.avail % 2 || layout_.used % 4) return false;
    desc_ = memory.host_ptr(layout_.desc, kDescSize * n);
    avail_ = memory.host_ptr(layout_.avail, 6 + 2 * uint64_t(n));
    used_ = memory.host_ptr(layout_.used, 6 + 8 * uint64_t(n));
    return desc_ && avail_ && used_;
}

void Virtqueue::set_broken(std::string_view why) {
    if (!broken_) spdlog::warn("{}: {}; the device needs a reset", name_, why);
    broken_ = true;
}

uint16_t Virtqueue::avail_flags() const { return load<uint16_t>(avail_); }
uint16_t Virtqueue::avail_ring(uint16_t slot) const {
    return load<uint16_t>(avail_ + 4 + 2 * uint64_t(slot % layout_.size));
}
uint16_t Virtqueue::used_event() const { return load<uint16_t>(avail_ + 4 + 2 * uint64_t(layout_.size)); }

void Virtqueue::set_avail_event(uint16_t value) {
    store<uint16_t>(used_ + 4 + 8 * uint64_t(layout_.size), value);
}

// Acquire: the ring entries up to idx are visible once idx is.
bool Virtqueue::load_avail_idx(uint16_t& idx) {
    idx = load<uint16_t>(avail_ + 2, __ATOMIC_ACQUIRE);
    if (uint16_t(idx - last_avail_idx_) > layout_.size) {
        set_broken(fmt::format("the driver moved the available index from {} to {}",
                               last_avail_idx_, idx));
        return false;
    }
    shadow_avail_idx_ = idx;
    return true;
}

PopResult Virtqueue::pop(VirtqueueChain& chain) {
    if (broken_) return PopResult::Broken;
    if (last_avail_idx_ == shadow_avail_idx_) {
        uint16_t idx;
        if (!load_avail_idx(idx)) return PopResult::Broken;
        if (idx == last_avail_idx_) return PopResult::Empty;
    }
    const uint16_t head = avail_ring(last_avail_idx_);
    if (head >= layout_.size) {
        set_broken(fmt::format("the driver made descriptor {} available, queue size {}", head,
                               layout_.size));
        return PopResult::Broken;
    }
    if (!walk_chain(head, chain)) return PopResult::Broken;
    ++last_avail_idx_;
    if (layout_.event_idx && !notifications_off_) set_avail_event(last_avail_idx_);
    return PopResult::Chain;
}

bool Virtqueue::walk_chain(uint16_t head, VirtqueueChain& chain) {
    chain.head = head;
    chain.buffers.clear();
    chain.readable = 0;
    WalkState state{desc_, layout_.size};
    uint32_t index = head;
    for (;;) {
        Desc d;
        // One copy: a driver rewriting the descriptor meanwhile cannot make
        // us use values other than the ones checked.
        std::memcpy(&d, state.table + kDescSize * index, sizeof d);
        if (d.flags & kDescFIndirect) {
            if (!enter_indirect(d, state)) return false;
            index = 0;
            continue;
        }
        if (!add_buffer(d, state, chain)) return false;
        if (!(d.flags & kDescFNext)) return true;
        if (d.next >= state.table_size) {
            set_broken(fmt::format("descriptor chain from {}: next index {} beyond the {} table "
                                   "of {} entries", head, d.next,
                                   state.in_indirect ? "indirect" : "descriptor", state.table_size));
            return false;
        }
        index = d.next;
    }
}

bool Virtqueue::enter_indirect(const Desc& d, WalkState& state) {
    if (!layout_.indirect) {
        set_broken("indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC");
        return false;
    }
    if (state.in_indirect) {
        set_broken("indirect descriptor inside an indirect table");
        return false;
    }
    if (d.flags & kDescFNext) {
        set_broken("indirect descriptor with the NEXT flag");
        return false;
    }
    if (d.len == 0 || d.len % kDescSize || d.len / kDescSize > layout_.size) {
        set_broken(fmt::format("indirect table of {} bytes (must be a multiple of 16, at most {})",
                               d.len, kDescSize * layout_.size));
        return false;
    }
    const uint8_t* table = memory_.host_ptr(d.addr, d.len);
    if (!table) {
        set_broken(fmt::format("indirect table at {:#x}+{:#x} outside guest RAM", d.addr, d.len));
        return false;
    }
    state.table = table;
    state.table_size = d.len / kDescSize;
    state.in_indirect = true;
    return true;
}

bool Virtqueue::add_buffer(const Desc& d, WalkState& state, VirtqueueChain& chain) {
    if (++state.count > layout_.size) {
        set_broken(fmt::format("descriptor chain from {} longer than the queue size {} (a loop?)",
                               chain.head, layout_.size));
        return false;
    }
    if (d.len == 0) {
        set_broken("zero-sized buffer in a descriptor chain");
        return false;
    }
    uint8_t* host = memory_.host_ptr(d.addr, d.len);
    if (!host) {
        set_broken(fmt::format("buffer {:#x}+{:#x} outside guest RAM", d.addr, d.len));
        return false;
    }
    const bool writable = d.flags & kDescFWrite;
    if (!writable && state.seen_writable) {
        set_broken("device-readable descriptor after a device-writable one");
        return false;
    }
    state.seen_writable |= writable;
    chain.buffers.push_back({host, d.len});
    if (!writable) ++chain.readable;
    return true;
}

void Virtqueue::rewind(uint16_t count) {
    if (broken_) return;
    last_avail_idx_ = uint16_t(last_avail_idx_ - count);
    if (layout_.event_idx && !notifications_off_) set_avail_event(last_avail_idx_);
}

void Virtqueue::restart_at(uint16_t next_avail) {
    if (broken_) return;
    last_avail_idx_ = shadow_avail_idx_ = next_avail;
    used_idx_ = load<uint16_t>(used_ + 2, __ATOMIC_ACQUIRE);
    signalled_used_valid_ = false;
    pushed_since_check_ = false;
}

void Virtqueue::push(uint16_t head, uint32_t bytes_written) {
    push_unpublished(head, bytes_written);
    publish();
}

void Virtqueue::push_unpublished(uint16_t head, uint32_t bytes_written) {
    if (broken_) return;
    uint8_t* elem = used_ + 4 + 8 * uint64_t(used_idx_ % layout_.size);
    store<uint32_t>(elem, head);
    store<uint32_t>(elem + 4, bytes_written);
    ++used_idx_;
}

void Virtqueue::publish() {
    if (broken_) return;
    // Release: the elements are visible to the driver before the index.
    store<uint16_t>(used_ + 2, used_idx_, __ATOMIC_RELEASE);
    pushed_since_check_ = true;
}

bool Virtqueue::needs_interrupt() {
    if (broken_ || !pushed_since_check_) return false;
    pushed_since_check_ = false;
    // Our used->idx store must be ordered before reading the driver's
    // suppression fields, or both sides could decide to wait.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!layout_.event_idx) return !(avail_flags() & kAvailFNoInterrupt);
    const bool valid = signalled_used_valid_;
    const uint16_t old = signalled_used_;
    signalled_used_ = used_idx_;
    signalled_used_valid_ = true;
    return !valid || need_event(used_event(), used_idx_, old);
}

void Virtqueue::disable_notification() {
    notifications_off_ = true;
    if (broken_ || layout_.event_idx) return;  // event idx: avail_event stays behind
    store<uint16_t>(used_, load<uint16_t>(used_) | kUsedFNoNotify);
}

bool Virtqueue::enable_notification() {
    notifications_off_ = false;
    if (broken_) return false;
    if (layout_.event_idx)
        set_avail_event(last_avail_idx_);
    else
        store<uint16_t>(used_, load<uint16_t>(used_) & ~kUsedFNoNotify);
    // The driver checks our flag after publishing avail->idx; we check its
    // index after publishing the flag. The fence makes one of us see the other.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    uint16_t idx;
    if (!load_avail_idx(idx)) return false;
    return idx != last_avail_idx_;
}

} // namespace kestrel
