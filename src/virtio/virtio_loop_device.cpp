#include "virtio/virtio_loop_device.h"

#include "base/event_loop.h"

#include <future>
#include <spdlog/spdlog.h>

namespace kestrel {

VirtioLoopDevice::VirtioLoopDevice(EventLoop& loop, std::string name) : loop_(loop), name_(std::move(name)) {}

VirtioLoopDevice::~VirtioLoopDevice() = default;

bool VirtioLoopDevice::on_loop_thread() const {
    std::lock_guard guard(const_cast<std::mutex&>(state_lock_));
    return loop_thread_ == std::this_thread::get_id();
}

void VirtioLoopDevice::halt() {
    alive_.reset();  // a start still posted to the loop will not run
    stop_serving();
}

void VirtioLoopDevice::activate(VirtioActivation activation) {
    {
        std::lock_guard guard(state_lock_);
        if (state_ == State::Idle) {
            state_ = State::Pending;
            const uint64_t generation = ++generation_;
            std::weak_ptr<int> alive = alive_;
            loop_.post([this, alive, generation, activation = std::move(activation)] {
                if (!alive.lock()) return;
                {
                    std::lock_guard guard(state_lock_);
                    if (state_ != State::Pending || generation_ != generation) return;
                    state_ = State::Active;
                    loop_thread_ = std::this_thread::get_id();
                }
                needs_reset_sent_ = false;
                start(activation);
            });
            return;
        }
    }
    spdlog::warn("{}: activated twice without a reset; resetting first", name_);
    reset();
    activate(std::move(activation));
}

void VirtioLoopDevice::reset() {
    std::unique_lock lock(state_lock_);
    if (state_ == State::Idle) return;
    if (state_ == State::Pending) {  // the posted start has not run: cancel it
        ++generation_;
        state_ = State::Idle;
        return;
    }
    const bool on_loop = std::this_thread::get_id() == loop_thread_;
    lock.unlock();
    if (on_loop) {
        stop_serving();
        return;
    }
    std::promise<void> stopped;
    auto done = stopped.get_future();
    loop_.post([this, &stopped] {
        stop_serving();
        stopped.set_value();
    });
    done.wait();
}

void VirtioLoopDevice::stop_serving() {
    {
        std::lock_guard guard(state_lock_);
        if (state_ != State::Active) return;
    }
    stop();
    std::lock_guard guard(state_lock_);
    state_ = State::Idle;
}

// Posted, so that a transport answering with reset() does not tear the
// queues down under the device's queue processing.
void VirtioLoopDevice::needs_reset() {
    if (needs_reset_sent_) return;
    needs_reset_sent_ = true;
    std::weak_ptr<int> alive = alive_;
    loop_.post([this, alive] {
        if (alive.lock() && on_needs_reset) on_needs_reset();
    });
}

} // namespace kestrel
