#pragma once
// A split virtqueue (VIRTIO 1.2 §2.7) in guest memory, device side.
// (Interface sketch by the lead; the virtqueue helper completes it.)
#include "machine/guest_memory.h"

#include <cstdint>

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

class Virtqueue;

} // namespace kestrel
