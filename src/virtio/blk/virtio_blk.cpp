#include "virtio/blk/virtio_blk.h"

#include "base/event_loop.h"
#include "virtio/blk/virtio_blk_abi.h"
#include "virtio/blk/virtio_blk_internal.h"

#include <algorithm>
#include <cstring>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <unistd.h>

namespace kestrel {

using namespace virtio_blk;

namespace {

template <typename T> void put_le(uint8_t* out, unsigned offset, T value) {
    std::memcpy(out + offset, &value, sizeof value);  // x86: little-endian already
}

} // namespace

namespace {

EventLoop& checked_loop(const VirtioBlkConfig& config) {
    if (!config.backend) throw std::invalid_argument("virtio-blk: no backend");
    if (!config.loop) throw std::invalid_argument("virtio-blk: no event loop");
    return *config.loop;
}

} // namespace

VirtioBlk::VirtioBlk(VirtioBlkConfig config)
    : VirtioLoopDevice(checked_loop(config), config.name), config_(std::move(config)), batcher_(config_.batching) {
    if (config_.num_queues == 0) config_.num_queues = 1;
}

VirtioBlk::~VirtioBlk() { halt(); }

uint16_t VirtioBlk::device_type() const { return kDeviceType; }

uint64_t VirtioBlk::device_features() const {
    uint64_t f = 1ull << kFSizeMax | 1ull << kFSegMax | 1ull << kFGeometry | 1ull << kFBlkSize | 1ull << kFTopology;
    if (config_.backend->has_volatile_cache()) f |= 1ull << kFFlush;
    if (config_.backend->read_only()) f |= 1ull << kFRo;
    if (config_.num_queues > 1) f |= 1ull << kFMq;
    if (config_.discard) f |= 1ull << kFDiscard;
    if (config_.write_zeroes) f |= 1ull << kFWriteZeroes;
    f |= 1ull << kVirtioFVersion1 | 1ull << kVirtioFRingEventIdx | 1ull << kVirtioFRingIndirectDesc;
    return f;
}

// QEMU sizes the config space by the last field its features use.
uint32_t VirtioBlk::config_size() const {
    if (config_.write_zeroes) return cfg::kWriteZeroesMayUnmap + 1;
    if (config_.discard) return cfg::kDiscardSectorAlignment + 4;
    return cfg::kMaxDiscardSectors;
}

void VirtioBlk::fill_config(uint8_t* out) const {
    std::memset(out, 0, cfg::kSize);
    const BlockBackend& b = *config_.backend;
    const uint32_t block = b.logical_block_size();
    put_le<uint64_t>(out, cfg::kCapacity, b.size() >> kSectorShift);
    put_le<uint32_t>(out, cfg::kSizeMax, config_.size_max);
    put_le<uint32_t>(out, cfg::kSegMax, uint32_t(config_.queue_size) - 2);
    put_le<uint16_t>(out, cfg::kGeometry, uint16_t(config_.geometry.cylinders));
    out[cfg::kGeometry + 2] = uint8_t(config_.geometry.heads);
    out[cfg::kGeometry + 3] = uint8_t(config_.geometry.sectors);
    put_le<uint32_t>(out, cfg::kBlkSize, block);
    out[cfg::kWriteback] = b.has_volatile_cache() ? 1 : 0;
    put_le<uint16_t>(out, cfg::kNumQueues, config_.num_queues);
    if (config_.discard) {
        put_le<uint32_t>(out, cfg::kMaxDiscardSectors, config_.max_discard_sectors);
        put_le<uint32_t>(out, cfg::kMaxDiscardSeg, config_.max_discard_seg);
        put_le<uint32_t>(out, cfg::kDiscardSectorAlignment, block >> kSectorShift);
    }
    if (config_.write_zeroes) {
        put_le<uint32_t>(out, cfg::kMaxWriteZeroesSectors, config_.max_write_zeroes_sectors);
        put_le<uint32_t>(out, cfg::kMaxWriteZeroesSeg, config_.max_write_zeroes_seg);
        out[cfg::kWriteZeroesMayUnmap] = 1;
    }
}

void VirtioBlk::read_config(uint64_t offset, std::span<uint8_t> data) {
    uint8_t space[cfg::kSize];
    fill_config(space);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = offset + i < cfg::kSize ? space[offset + i] : 0;
}

// Without VIRTIO_BLK_F_CONFIG_WCE every field is read-only.
void VirtioBlk::write_config(uint64_t, std::span<const uint8_t>) {}

void VirtioBlk::start(VirtioActivation activation) {
    stopping_ = false;
    EventLoop& loop = this->loop();
    for (size_t i = 0; i < activation.queues.size(); ++i) {
        auto queue = std::make_unique<Queue>();
        queue->index = unsigned(i);
        queue->vq = activation.queues[i].queue;
        queue->notify_fd = activation.queues[i].notify_fd;
        queue->interrupt = activation.queues[i].interrupt;
        Queue* q = queue.get();
        queues_.push_back(std::move(queue));
        loop.add_fd(q->notify_fd, EPOLLIN, [this, q](uint32_t) {
            uint64_t count;
            [[maybe_unused]] auto r = ::read(q->notify_fd, &count, sizeof count);
            process_queue(*q);
            settle();
        });
    }
    loop.add_fd(config_.backend->completion_fd(), EPOLLIN, [this](uint32_t) {
        config_.backend->process_completions();
        batcher_.completions_arrived(taken_since_completion_);
        taken_since_completion_ = 0;
        poll_busy_queues();
        settle();
    });
    loop.add_fd(batcher_.timer_fd(), EPOLLIN, [this](uint32_t) {
        batcher_.timer_fired();
        poll_busy_queues();
        raise_interrupts();
        if (batcher_.keep_polling(in_flight_)) batcher_.arm();
    });
    // The driver may have queued requests before we watched its eventfds.
    for (auto& q : queues_) process_queue(*q);
    settle();
}

// Stops watching, then waits for the backend to finish every request that
// still points into guest memory. Those completions are not pushed.
void VirtioBlk::stop() {
    EventLoop& loop = this->loop();
    stopping_ = true;
    for (auto& q : queues_) loop.remove_fd(q->notify_fd);
    const int completion_fd = config_.backend->completion_fd();
    loop.remove_fd(completion_fd);
    loop.remove_fd(batcher_.timer_fd());
    batcher_.cancel();
    while (in_flight_ > 0) {
        pollfd p{completion_fd, POLLIN, 0};
        ::poll(&p, 1, 100);
        config_.backend->process_completions();
    }
    queues_.clear();
    stopping_ = false;
}

// Takes every available request. Notifications go back on unless the
// device is busy or lingering: then the queue is polled at each completion
// and at the batcher's timer instead (CompletionBatcher).
void VirtioBlk::process_queue(Queue& queue) {
    Virtqueue& vq = *queue.vq;
    for (;;) {
        vq.disable_notification();
        for (;;) {
            auto request = take_request(queue);
            if (vq.pop(request->chain) != PopResult::Chain) {
                free_requests_.push_back(std::move(request));
                break;
            }
            handle_request(queue, std::move(request));
            ++taken_since_completion_;
        }
        queue.polled = !vq.broken() && batcher_.keep_polling(in_flight_);
        if (queue.polled || vq.broken() || !vq.enable_notification()) break;
    }
    config_.backend->kick();
    if (vq.broken()) needs_reset();
}

void VirtioBlk::poll_busy_queues() {
    for (auto& q : queues_)
        if (q->polled) process_queue(*q);
}

// The end of every event: interrupts now, or after the batcher's delay.
void VirtioBlk::settle() {
    if (!batcher_.busy(in_flight_)) raise_interrupts();
    if (batcher_.keep_polling(in_flight_)) batcher_.arm();
}

void VirtioBlk::raise_interrupts() {
    for (auto& q : queues_)
        if (q->vq->needs_interrupt() && q->interrupt) q->interrupt();
}

std::unique_ptr<VirtioBlk::Request> VirtioBlk::take_request(Queue& queue) {
    std::unique_ptr<Request> request;
    if (free_requests_.empty()) {
        request = std::make_unique<Request>();
    } else {
        request = std::move(free_requests_.back());
        free_requests_.pop_back();
    }
    request->queue = &queue;
    return request;
}

} // namespace kestrel
