#include "virtio/rng/virtio_rng.h"

#include "base/event_loop.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel {

namespace {

EventLoop& checked_loop(const VirtioRngConfig& config) {
    if (!config.loop || !config.backend) throw std::invalid_argument("virtio-rng: no event loop or backend");
    return *config.loop;
}

void drain(int fd) {
    uint64_t count;
    [[maybe_unused]] auto r = ::read(fd, &count, sizeof count);
}

} // namespace

VirtioRng::VirtioRng(VirtioRngConfig config)
    : VirtioLoopDevice(checked_loop(config), config.name), config_(std::move(config)),
      timer_fd_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
    if (!timer_fd_) throw std::runtime_error(std::string("virtio-rng: timerfd: ") + std::strerror(errno));
    state_.quota_remaining = config_.max_bytes;
}

VirtioRng::~VirtioRng() { halt(); }

uint64_t VirtioRng::device_features() const {
    return 1ull << kVirtioFVersion1 | 1ull << kVirtioFRingEventIdx | 1ull << kVirtioFRingIndirectDesc;
}

void VirtioRng::read_config(uint64_t, std::span<uint8_t> data) { std::fill(data.begin(), data.end(), 0); }

void VirtioRng::start(VirtioActivation activation) {
    for (const VirtioQueueBinding& b : activation.queues) {
        if (b.index != 0) continue;
        vq_ = b.queue;
        notify_fd_ = b.notify_fd;
        interrupt_ = b.interrupt;
    }
    if (!vq_) return;
    loop().add_fd(notify_fd_, EPOLLIN, [this](uint32_t) {
        drain(notify_fd_);
        serve();
    });
    loop().add_fd(timer_fd_.get(), EPOLLIN, [this](uint32_t) {
        drain(timer_fd_.get());
        refill();
    });
    serve();  // the driver may have queued buffers before we watched its eventfd
}

// The quota survives a reset, as QEMU's; only the running period ends.
void VirtioRng::stop() {
    if (vq_) {
        loop().remove_fd(notify_fd_);
        loop().remove_fd(timer_fd_.get());
    }
    itimerspec off{};
    timerfd_settime(timer_fd_.get(), 0, &off, nullptr);
    state_.period_running = false;
    vq_ = nullptr;
    notify_fd_ = -1;
    interrupt_ = nullptr;
}

// Fills chains while the quota lasts; a chain the backend cannot fill now
// (a file with nothing to give) goes back to the ring for later.
void VirtioRng::serve() {
    if (!vq_) return;
    Virtqueue& vq = *vq_;
    VirtqueueChain chain;
    while (state_.quota_remaining > 0) {
        if (vq.pop(chain) != PopResult::Chain) {
            if (vq.broken() || !vq.enable_notification()) break;
            continue;
        }
        if (!state_.period_running) arm_period_timer();
        uint32_t written = fill(chain);
        if (written == 0 && !chain.writable_buffers().empty()) {
            vq.rewind(1);
            break;
        }
        state_.quota_remaining -= written;
        vq.push(chain.head, written);
    }
    if (vq.needs_interrupt() && interrupt_) interrupt_();
    if (vq.broken()) needs_reset();
}

// Random bytes into the chain's writable buffers, within the quota.
uint32_t VirtioRng::fill(const VirtqueueChain& chain) {
    const uint64_t limit = std::min<uint64_t>(state_.quota_remaining, UINT32_MAX);
    uint64_t written = 0;
    for (const iovec& buffer : chain.writable_buffers()) {
        const size_t want = size_t(std::min<uint64_t>(buffer.iov_len, limit - written));
        const size_t got = config_.backend->read({static_cast<uint8_t*>(buffer.iov_base), want});
        written += got;
        if (got < want || written == limit) break;
    }
    return uint32_t(written);
}

void VirtioRng::arm_period_timer() {
    itimerspec when{};
    when.it_value.tv_sec = config_.period_ms / 1000;
    when.it_value.tv_nsec = long(config_.period_ms % 1000) * 1000000;
    timerfd_settime(timer_fd_.get(), 0, &when, nullptr);
    state_.period_running = true;
}

// As QEMU's timer: a full quota, and what waits is served (which starts
// the next period).
void VirtioRng::refill() {
    state_.quota_remaining = config_.max_bytes;
    state_.period_running = false;
    serve();
}

} // namespace kestrel
