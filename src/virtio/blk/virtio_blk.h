#pragma once
// virtio-blk (VIRTIO 1.2 §5.2): a disk served from a BlockBackend.
//
// Threads: the device serves all its queues on the EventLoop it is given
// (an iothread's or a thread of its own); VirtioLoopDevice says how
// activate(), reset() and the destructor meet that loop. reset() returns
// once every request in flight has completed. The queue interrupt
// callbacks run on the loop thread.
//
// Data goes between guest memory and the backend without copies: the
// iovecs given to BlockBackend::submit point into guest RAM.
#include "block/block_backend.h"
#include "block/hd_geometry.h"
#include "virtio/completion_batcher.h"
#include "virtio/virtio_loop_device.h"
#include "virtio/virtqueue.h"

#include <memory>
#include <string>
#include <vector>

namespace kestrel {

class EventLoop;

struct VirtioBlkConfig {
    std::shared_ptr<BlockBackend> backend;
    EventLoop* loop = nullptr;          // serves the queues; must outlive the device
    std::string serial;                 // GET_ID answer, first 20 bytes
    uint16_t num_queues = 1;            // num-queues=; > 1 offers VIRTIO_BLK_F_MQ
    uint16_t queue_size = 256;          // queue-size= (QEMU 7.2 default)
    std::string name = "virtio-blk";    // log prefix, e.g. the qdev id
    // Limits offered with DISCARD / WRITE_ZEROES (QEMU's defaults).
    bool discard = true;
    bool write_zeroes = true;
    uint32_t max_discard_sectors = 4194303;       // BDRV_REQUEST_MAX_SECTORS
    uint32_t max_discard_seg = 1;
    uint32_t max_write_zeroes_sectors = 4194303;
    uint32_t max_write_zeroes_seg = 1;
    uint32_t size_max = 0xffffffffu;    // VIRTIO_BLK_F_SIZE_MAX: no limit of our own
    HdGeometry geometry;                // VIRTIO_BLK_F_GEOMETRY (SeaBIOS's int 13h geometry)
    BatchLimits batching;               // while busy (CompletionBatcher)
};

class VirtioBlk final : public VirtioLoopDevice {
public:
    explicit VirtioBlk(VirtioBlkConfig config);
    ~VirtioBlk() override;
    VirtioBlk(const VirtioBlk&) = delete;
    VirtioBlk& operator=(const VirtioBlk&) = delete;

    uint16_t device_type() const override;
    uint64_t device_features() const override;
    unsigned num_queues() const override { return config_.num_queues; }
    uint16_t max_queue_size() const override { return config_.queue_size; }
    // Bytes of device config space QEMU exposes for these features.
    uint32_t config_size() const;

    void read_config(uint64_t offset, std::span<uint8_t> data) override;
    void write_config(uint64_t offset, std::span<const uint8_t> data) override;

    BlockBackend& backend() { return *config_.backend; }
    // Requests submitted to the backend and not completed yet (loop thread).
    unsigned in_flight() const { return in_flight_; }

private:
    struct Queue;
    struct Request;

    void fill_config(uint8_t* out) const;

    // Loop thread.
    void start(VirtioActivation activation) override;
    void stop() override;
    void process_queue(Queue& queue);
    void poll_busy_queues();
    void settle();
    void raise_interrupts();

    // Requests (virtio_blk_request.cpp).
    void handle_request(Queue& queue, std::unique_ptr<Request> request);
    uint8_t start_read_write(Request& request, uint32_t type, uint64_t sector);
    uint8_t start_discard_or_zeroes(Request& request, bool write_zeroes);
    uint8_t answer_get_id(Request& request);
    bool sector_range_ok(uint64_t sector, uint64_t bytes) const;
    void submit(Request& request, BlockRequest block_request);
    void complete(Request& request, uint8_t status);
    std::unique_ptr<Request> take_request(Queue& queue);

    VirtioBlkConfig config_;

    // Loop thread state, valid while serving.
    std::vector<std::unique_ptr<Queue>> queues_;
    std::vector<std::unique_ptr<Request>> free_requests_;
    unsigned in_flight_ = 0;
    CompletionBatcher batcher_;
    unsigned taken_since_completion_ = 0;
    bool stopping_ = false;
};

} // namespace kestrel
