#pragma once
// VirtioBlk's private per-queue and per-request state, shared by
// virtio_blk.cpp (queues, lifecycle) and virtio_blk_request.cpp (requests).
#include "virtio/blk/virtio_blk.h"

#include <functional>
#include <sys/uio.h>
#include <vector>

namespace kestrel {

struct VirtioBlk::Queue {
    unsigned index = 0;
    Virtqueue* vq = nullptr;
    int notify_fd = -1;
    std::function<void()> interrupt;
    bool polled = false;             // notifications off: polled while busy
};

struct VirtioBlk::Request {
    Queue* queue = nullptr;
    VirtqueueChain chain;
    uint8_t* status = nullptr;       // last byte of the last writable buffer
    std::vector<iovec> data;         // payload without header and status
    uint32_t written = 0;            // payload bytes written for the driver
    unsigned pending = 0;            // backend requests not completed yet
    uint8_t result = 0;              // status to report when pending hits 0
    uint64_t start_ns = 0;           // monotonic_ns() when it was taken
};

} // namespace kestrel
