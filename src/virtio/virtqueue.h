#pragma once
// A split virtqueue (VIRTIO 1.2 §2.7) in guest memory, device side.
//
// One thread uses a Virtqueue at a time (the device's queue thread); the
// guest's vCPUs run concurrently on the other side of the rings, so ring
// indices are read and written with acquire/release atomics and the
// notification-suppression checks use full fences.
//
// Everything the guest hands over is validated before the device sees it:
// a malformed ring or descriptor chain puts the queue in the "broken" state
// (logged once); pop() then returns PopResult::Broken and push() does
// nothing. The device answers that with VirtioDevice::on_needs_reset.
#include "kvm/guest_memory.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <sys/uio.h>
#include <vector>

namespace kestrel {

// Where the driver put the rings (common config queue_desc/driver/device)
// and the features that change their use.
struct VirtqueueLayout {
    uint16_t size = 0;        // power of two (split ring), <= max_queue_size
    uint64_t desc = 0;        // descriptor table
    uint64_t avail = 0;       // driver area
    uint64_t used = 0;        // device area
    bool event_idx = false;   // VIRTIO_F_RING_EVENT_IDX negotiated
    bool indirect = false;    // VIRTIO_F_RING_INDIRECT_DESC negotiated
};

// Feature bits that concern the ring itself.
inline constexpr unsigned kVirtioFRingIndirectDesc = 28;
inline constexpr unsigned kVirtioFRingEventIdx = 29;
inline constexpr unsigned kVirtioFVersion1 = 32;

// One descriptor chain the driver made available: host views of its guest
// buffers, device-readable ones first, then device-writable ones.
struct VirtqueueChain {
    uint16_t head = 0;           // index to give back to push()
    std::vector<iovec> buffers;  // each lies inside guest RAM, length > 0
    size_t readable = 0;         // buffers[0, readable) are device-readable

    std::span<const iovec> readable_buffers() const { return {buffers.data(), readable}; }
    std::span<const iovec> writable_buffers() const {
        return {buffers.data() + readable, buffers.size() - readable};
    }
};

enum class PopResult { Chain, Empty, Broken };

class Virtqueue {
public:
    // The rings must be aligned (16/2/4 bytes) and lie inside guest RAM, the
    // size a power of two up to 32768; otherwise the queue starts broken.
    // `name` prefixes log messages ("virtio-blk 0000:00:04.0 queue 0").
    Virtqueue(const GuestMemory& memory, const VirtqueueLayout& layout,
              std::string name = "virtqueue");
    Virtqueue(const Virtqueue&) = delete;
    Virtqueue& operator=(const Virtqueue&) = delete;

    const VirtqueueLayout& layout() const { return layout_; }
    uint16_t size() const { return layout_.size; }

    // Takes the next available chain into `chain` (its vectors are reused).
    PopResult pop(VirtqueueChain& chain);

    // Gives the last `count` chains pop() returned back to the available
    // ring, unused (the device took them ahead and did not need them).
    void rewind(uint16_t count);
    // Continues where another datapath (vhost) stopped: `next_avail` is the
    // next available slot to read; the used index is read from the ring.
    void restart_at(uint16_t next_avail);

    // Returns a chain to the driver: used element {head, bytes_written},
    // then a release store of used->idx.
    void push(uint16_t head, uint32_t bytes_written);
    // The same in two steps, for several chains the driver must see at
    // once (the buffers of one merged receive): elements first, then one
    // publish() of used->idx.
    void push_unpublished(uint16_t head, uint32_t bytes_written);
    void publish();

    // After a batch of push()es: true when the driver wants an interrupt
    // for them (event idx: used_event crossed since the last true answer;
    // otherwise: VIRTQ_AVAIL_F_NO_INTERRUPT clear). False when nothing was
    // pushed since the last call.
    bool needs_interrupt();

    // Notification suppression while the device is busy draining the ring
    // or polls it: with event idx, pop() then leaves avail_event behind,
    // so the driver does not notify for what it adds meanwhile.
    void disable_notification();
    // Asks the driver to notify again and returns true when buffers arrived
    // meanwhile (the caller must pop again, or it could miss them).
    bool enable_notification();

    bool broken() const { return broken_; }
    // Puts the queue in the broken state and logs `why` (once per queue).
    // Also for devices that find a request malformed beyond answering.
    void set_broken(std::string_view why);

    uint16_t last_avail_idx() const { return last_avail_idx_; }
    uint16_t used_idx() const { return used_idx_; }

private:
    struct Desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
    };
    struct WalkState;

    bool map_rings(const GuestMemory& memory);
    bool load_avail_idx(uint16_t& idx);
    bool walk_chain(uint16_t head, VirtqueueChain& chain);
    bool enter_indirect(const Desc& d, WalkState& state);
    bool add_buffer(const Desc& d, WalkState& state, VirtqueueChain& chain);
    void set_avail_event(uint16_t value);

    uint16_t avail_flags() const;
    uint16_t avail_ring(uint16_t slot) const;
    uint16_t used_event() const;

    const GuestMemory& memory_;
    VirtqueueLayout layout_;
    std::string name_;

    const uint8_t* desc_ = nullptr;
    uint8_t* avail_ = nullptr;
    uint8_t* used_ = nullptr;

    uint16_t last_avail_idx_ = 0;   // next avail ring slot to read
    uint16_t shadow_avail_idx_ = 0; // driver's avail->idx as last read
    uint16_t used_idx_ = 0;         // our used->idx
    uint16_t signalled_used_ = 0;   // used_idx_ at the last interrupt decision
    bool signalled_used_valid_ = false;
    bool pushed_since_check_ = false;
    bool broken_ = false;
    bool notifications_off_ = false;
};

} // namespace kestrel
