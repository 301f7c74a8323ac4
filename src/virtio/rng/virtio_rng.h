#pragma once
// virtio-rng, the entropy device (VIRTIO 1.2 §5.4): one queue (requestq)
// of device-writable buffers the device fills with random bytes from its
// backend. No config space, no device features.
//
// QEMU's rate limit: at most max_bytes per period_ms. The period starts at
// the first request after a refill; when it ends the quota is full again.
// Buffers that do not fit the quota wait in the ring until then.
//
// Threads: everything runs on the loop the device is given (VirtioLoopDevice
// says how activate(), reset() and the destructor meet it); no vCPU ever
// waits for the backend. Guest input is validated by Virtqueue: a chain
// without writable buffers is returned with nothing written.
#include "base/unique_fd.h"
#include "virtio/rng/rng_backend.h"
#include "virtio/virtio_loop_device.h"
#include "virtio/virtqueue.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace kestrel {

class EventLoop;

namespace virtio_rng {
inline constexpr uint16_t kDeviceType = 4;
inline constexpr uint16_t kQueueSize = 8;  // QEMU's virtio_add_queue(vdev, 8, ...)
inline constexpr uint64_t kDefaultMaxBytes = INT64_MAX;
inline constexpr uint32_t kDefaultPeriodMs = 1 << 16;
} // namespace virtio_rng

struct VirtioRngConfig {
    EventLoop* loop = nullptr;            // serves the queue; must outlive the device
    std::shared_ptr<RngBackend> backend;  // rng=, or a builtin one
    uint64_t max_bytes = virtio_rng::kDefaultMaxBytes;
    uint32_t period_ms = virtio_rng::kDefaultPeriodMs;
    std::string name = "virtio-rng";      // log prefix and thread name
};

// What the guest can see of the device beyond its ring: the rate limit.
struct VirtioRngState {
    uint64_t quota_remaining = 0;  // bytes the guest may still get this period
    bool period_running = false;   // the refill timer is armed
};

class VirtioRng final : public VirtioLoopDevice {
public:
    explicit VirtioRng(VirtioRngConfig config);
    ~VirtioRng() override;
    VirtioRng(const VirtioRng&) = delete;
    VirtioRng& operator=(const VirtioRng&) = delete;

    uint16_t device_type() const override { return virtio_rng::kDeviceType; }
    uint64_t device_features() const override;
    unsigned num_queues() const override { return 1; }
    uint16_t max_queue_size() const override { return virtio_rng::kQueueSize; }
    void read_config(uint64_t offset, std::span<uint8_t> data) override;
    void write_config(uint64_t, std::span<const uint8_t>) override {}

    // Loop thread (tests read it between pumps).
    const VirtioRngState& state() const { return state_; }

private:
    void start(VirtioActivation activation) override;
    void stop() override;
    void serve();
    uint32_t fill(const VirtqueueChain& chain);
    void refill();
    void arm_period_timer();

    const VirtioRngConfig config_;
    VirtioRngState state_;
    UniqueFd timer_fd_;

    // Loop thread, valid while serving.
    Virtqueue* vq_ = nullptr;
    int notify_fd_ = -1;
    std::function<void()> interrupt_;
};

} // namespace kestrel
