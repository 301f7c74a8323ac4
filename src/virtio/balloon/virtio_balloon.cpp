#include "virtio/balloon/virtio_balloon.h"

#include "base/event_loop.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel {

using namespace virtio_balloon;

namespace {

EventLoop& checked_loop(const VirtioBalloonConfig& config) {
    if (!config.loop || !config.main_loop) throw std::invalid_argument("virtio-balloon: no event loop");
    return *config.loop;
}

void put_le32(uint8_t* out, unsigned offset, uint32_t value) { std::memcpy(out + offset, &value, 4); }
uint32_t get_le32(const uint8_t* in, unsigned offset) {
    uint32_t value;
    std::memcpy(&value, in + offset, 4);
    return value;
}

} // namespace

VirtioBalloon::VirtioBalloon(VirtioBalloonConfig config)
    : VirtioLoopDevice(checked_loop(config), config.name), config_(std::move(config)),
      timer_fd_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
    if (!timer_fd_) throw std::runtime_error(std::string("virtio-balloon: timerfd: ") + std::strerror(errno));
    state_.stats.values.fill(UINT64_MAX);
    state_.stats_polling_interval = config_.stats_polling_interval;
}

VirtioBalloon::~VirtioBalloon() {
    alive_.reset();
    halt();
}

uint64_t VirtioBalloon::device_features() const {
    uint64_t f = 1ull << kFStatsVq;
    if (config_.deflate_on_oom) f |= 1ull << kFDeflateOnOom;
    if (config_.page_poison) f |= 1ull << kFPagePoison;
    if (config_.free_page_reporting) f |= 1ull << kFReporting;
    return f | 1ull << kVirtioFVersion1 | 1ull << kVirtioFRingEventIdx | 1ull << kVirtioFRingIndirectDesc;
}

unsigned VirtioBalloon::num_queues() const { return config_.free_page_reporting ? 4 : 3; }

uint16_t VirtioBalloon::queue_max_size(unsigned index) const {
    return index == kReportingQueue ? kReportingQueueSize : kQueueSize;
}

// As QEMU: the whole structure with page poisoning (on by default), else
// only num_pages and actual.
uint32_t VirtioBalloon::config_size() const {
    return config_.qemu_4_0_config_size || config_.page_poison ? cfg::kSize : cfg::kFreePageHintCmdId;
}

void VirtioBalloon::read_config(uint64_t offset, std::span<uint8_t> data) {
    uint8_t space[cfg::kSize] = {};
    {
        std::lock_guard guard(lock_);
        put_le32(space, cfg::kNumPages, state_.num_pages);
        put_le32(space, cfg::kActual, state_.actual);
        put_le32(space, cfg::kPoisonVal, state_.poison_val);
    }
    for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < cfg::kSize ? space[offset + i] : 0;
}

// The driver writes actual (and poison_val); num_pages is the host's.
void VirtioBalloon::write_config(uint64_t offset, std::span<const uint8_t> data) {
    uint8_t space[cfg::kSize] = {};
    bool changed = false;
    {
        std::lock_guard guard(lock_);
        put_le32(space, cfg::kActual, state_.actual);
        put_le32(space, cfg::kPoisonVal, state_.poison_val);
        for (size_t i = 0; i < data.size() && offset + i < cfg::kSize; ++i) space[offset + i] = data[i];
        const uint32_t actual = get_le32(space, cfg::kActual);
        changed = actual != state_.actual;
        state_.actual = actual;
        state_.poison_val = config_.page_poison ? get_le32(space, cfg::kPoisonVal) : 0;
    }
    if (changed) notify_change();
}

// --- BalloonService ---

uint64_t VirtioBalloon::actual() const {
    std::lock_guard guard(lock_);
    const uint64_t given = uint64_t(state_.actual) << kPageShift;
    return given < config_.ram_size ? config_.ram_size - given : 0;  // a guest may claim more than it has
}

// As QEMU: ask for RAM minus the target, rounded down to pages.
void VirtioBalloon::set_target(uint64_t target) {
    if (target == 0) return;
    {
        std::lock_guard guard(lock_);
        state_.num_pages = uint32_t((config_.ram_size - std::min(target, config_.ram_size)) >> kPageShift);
    }
    if (on_config_changed) on_config_changed();
}

BalloonGuestStats VirtioBalloon::guest_stats() const {
    std::lock_guard guard(lock_);
    return state_.stats;
}

int64_t VirtioBalloon::stats_polling_interval() const {
    std::lock_guard guard(lock_);
    return state_.stats_polling_interval;
}

// As QEMU: a new interval asks the guest at once, a changed one restarts
// the wait, 0 stops asking.
void VirtioBalloon::set_stats_polling_interval(int64_t seconds) {
    int64_t old;
    {
        std::lock_guard guard(lock_);
        old = state_.stats_polling_interval;
        state_.stats_polling_interval = seconds;
    }
    if (seconds == old) return;
    const int64_t wait = seconds == 0 ? -1 : old == 0 ? 0 : seconds;
    post_to_loop([this, wait] { arm_stats_timer(wait); });
}

void VirtioBalloon::on_change(std::function<void(uint64_t)> listener) { listener_ = std::move(listener); }

void VirtioBalloon::set_running(bool running) {
    running_.store(running);
    if (running) post_to_loop([this] {
            if (stats_due_) stats_timer_fired();
        });
}

VirtioBalloonState VirtioBalloon::state() const {
    std::lock_guard guard(lock_);
    return state_;
}

void VirtioBalloon::post_to_loop(std::function<void()> fn) {
    std::weak_ptr<int> alive = alive_;
    loop().post([alive, fn = std::move(fn)] {
        if (alive.lock()) fn();
    });
}

// BALLOON_CHANGE comes from the main loop, whoever wrote the config.
void VirtioBalloon::notify_change() {
    std::weak_ptr<int> alive = alive_;
    config_.main_loop->post([this, alive] {
        if (alive.lock() && listener_) listener_(actual());
    });
}

// --- Serving the queues (loop thread) ---

void VirtioBalloon::start(VirtioActivation activation) {
    memory_ = &activation.memory;
    features_ = activation.driver_features;
    EventLoop& loop = this->loop();
    queues_.clear();
    queues_.reserve(activation.queues.size());
    for (const VirtioQueueBinding& b : activation.queues) {
        if (b.index >= num_queues()) continue;
        queues_.push_back({b.queue, b.notify_fd, b.interrupt, b.index});
    }
    for (Queue& q : queues_) {
        loop.add_fd(q.notify_fd, EPOLLIN, [this, &q](uint32_t) {
            uint64_t count;
            [[maybe_unused]] auto r = ::read(q.notify_fd, &count, sizeof count);
            serve(q);
        });
    }
    loop.add_fd(timer_fd_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t expirations;
        [[maybe_unused]] auto r = ::read(timer_fd_.get(), &expirations, sizeof expirations);
        stats_timer_fired();
    });
    // The driver may have queued buffers before we watched its eventfds.
    for (Queue& q : queues_) serve(q);
}

// A held stats buffer is dropped with the rings (QEMU gives it back unused).
void VirtioBalloon::stop() {
    EventLoop& loop = this->loop();
    for (Queue& q : queues_) loop.remove_fd(q.notify_fd);
    loop.remove_fd(timer_fd_.get());
    queues_.clear();
    stats_head_.reset();
    stats_due_ = false;
    memory_ = nullptr;
    std::lock_guard guard(lock_);
    state_.poison_val = 0;
}

VirtioBalloon::Queue* VirtioBalloon::queue(unsigned index) {
    for (Queue& q : queues_)
        if (q.index == index) return &q;
    return nullptr;
}

void VirtioBalloon::serve(Queue& queue) {
    Virtqueue& vq = *queue.vq;
    VirtqueueChain chain;
    do {
        while (vq.pop(chain) == PopResult::Chain) handle_chain(queue, chain);
    } while (!vq.broken() && vq.enable_notification());
    if (vq.needs_interrupt() && queue.interrupt) queue.interrupt();
    if (vq.broken()) needs_reset();
}

void VirtioBalloon::handle_chain(Queue& queue, VirtqueueChain& chain) {
    switch (queue.index) {
    case kInflateQueue: inflate(read_pfns(chain)); break;
    case kDeflateQueue: deflate(read_pfns(chain)); break;
    case kStatsQueue: return receive_stats(queue, chain);  // held until the next request
    case kReportingQueue: report_free_pages(chain); break;
    default: break;
    }
    finish(queue, chain.head);
}

// QEMU answers every request with nothing written.
void VirtioBalloon::finish(Queue& queue, uint16_t head) { queue.vq->push(head, 0); }

} // namespace kestrel
