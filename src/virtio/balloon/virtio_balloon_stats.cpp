// The statistics queue (VIRTIO 1.2 §5.5.6.3): the driver hands the device
// a buffer of statistics; the device keeps it, and gives it back when it
// wants fresh ones, which the driver answers with a new buffer.
#include "virtio/balloon/virtio_balloon.h"

#include <cstring>
#include <ctime>
#include <sys/timerfd.h>

namespace kestrel {

using namespace virtio_balloon;

namespace {

// Real drivers send ten records; more than this is not statistics.
constexpr size_t kMaxStatsBytes = 4096;

BalloonGuestStats parse_stats(const VirtqueueChain& chain) {
    std::vector<uint8_t> bytes;
    for (const iovec& buf : chain.readable_buffers()) {
        const auto* p = static_cast<const uint8_t*>(buf.iov_base);
        bytes.insert(bytes.end(), p, p + std::min(buf.iov_len, kMaxStatsBytes - bytes.size()));
        if (bytes.size() == kMaxStatsBytes) break;
    }
    BalloonGuestStats stats;
    stats.values.fill(UINT64_MAX);
    for (size_t at = 0; at + kStatRecordSize <= bytes.size(); at += kStatRecordSize) {
        uint16_t tag;
        uint64_t value;
        std::memcpy(&tag, &bytes[at], 2);
        std::memcpy(&value, &bytes[at + 2], 8);
        if (tag < stats.values.size()) stats.values[tag] = value;
    }
    stats.last_update = int64_t(std::time(nullptr));
    return stats;
}

} // namespace

// A driver that sends a second buffer before the first came back breaks
// the protocol; as QEMU, the first goes back then.
void VirtioBalloon::receive_stats(Queue& queue, VirtqueueChain& chain) {
    if (stats_head_) {
        log_once(logged_extra_stats_buffer_, "a second statistics buffer before the first was returned");
        finish(queue, *stats_head_);
    }
    stats_head_ = chain.head;
    BalloonGuestStats stats = parse_stats(chain);
    int64_t interval;
    {
        std::lock_guard guard(lock_);
        state_.stats = stats;
        interval = state_.stats_polling_interval;
    }
    if (interval > 0) arm_stats_timer(interval);
}

void VirtioBalloon::stats_timer_fired() {
    if (!running_.load()) {
        stats_due_ = true;
        return;
    }
    stats_due_ = false;
    const int64_t interval = stats_polling_interval();
    if (interval == 0) return;
    Queue* q = queue(kStatsQueue);
    if (!stats_head_ || !q || !(features_ >> kFStatsVq & 1)) {
        arm_stats_timer(interval);
        return;
    }
    q->vq->push(*stats_head_, 0);
    stats_head_.reset();
    if (q->vq->needs_interrupt() && q->interrupt) q->interrupt();
}

void VirtioBalloon::arm_stats_timer(int64_t seconds) {
    itimerspec when{};
    if (seconds > 0) when.it_value.tv_sec = time_t(seconds);
    if (seconds == 0) when.it_value.tv_nsec = 1;  // at once (all zeros would disarm)
    timerfd_settime(timer_fd_.get(), 0, &when, nullptr);
}

} // namespace kestrel
