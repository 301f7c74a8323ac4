#pragma once
// virtio-balloon (VIRTIO 1.2 §5.5): the host asks the guest for memory
// back; pages the guest puts in the balloon, and free pages it reports
// (VIRTIO_BALLOON_F_REPORTING), are returned to the host; the guest's
// memory statistics arrive on the stats queue.
//
// Threads: the queues and the statistics timer are served on the loop the
// device is given (VirtioLoopDevice says how activate(), reset() and the
// destructor meet it). The configuration space is read and written from
// vCPU threads, the BalloonService from the main loop; what they share is
// the guest-visible state below, under one lock. Change listeners run on
// the main loop.
//
// Guest input is never trusted: page numbers outside guest RAM, repeated
// pages, page lists longer than guest RAM and misaligned reports are
// skipped one by one (logged once each with -d guest_errors); only whole
// backing pages inside guest RAM are ever given back (GuestMemory::discard).
#include "base/unique_fd.h"
#include "devices/balloon_service.h"
#include "virtio/balloon/virtio_balloon_abi.h"
#include "virtio/virtio_loop_device.h"
#include "virtio/virtqueue.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

class EventLoop;

struct VirtioBalloonConfig {
    EventLoop* loop = nullptr;       // serves the queues; must outlive the device
    EventLoop* main_loop = nullptr;  // where change listeners run; must outlive the device
    uint64_t ram_size = 0;           // guest RAM in bytes (QEMU's current RAM size)
    bool deflate_on_oom = false;     // deflate-on-oom=
    bool free_page_reporting = false;  // free-page-reporting=
    bool page_poison = true;         // page-poison=
    bool qemu_4_0_config_size = false;
    int64_t stats_polling_interval = 0;  // guest-stats-polling-interval=, seconds
    std::string qom_path;            // "/machine/peripheral/ID"
    std::string name = "virtio-balloon";  // log prefix
};

// What the guest sees and the host asked, in one plain struct.
struct VirtioBalloonState {
    uint32_t num_pages = 0;   // config: pages the host wants in the balloon
    uint32_t actual = 0;      // config: pages the guest says are in it
    uint32_t poison_val = 0;  // config: the guest's free page poison (PAGE_POISON)
    int64_t stats_polling_interval = 0;
    BalloonGuestStats stats;
};

class VirtioBalloon final : public VirtioLoopDevice, public BalloonService {
public:
    explicit VirtioBalloon(VirtioBalloonConfig config);
    ~VirtioBalloon() override;
    VirtioBalloon(const VirtioBalloon&) = delete;
    VirtioBalloon& operator=(const VirtioBalloon&) = delete;

    // VirtioDevice
    uint16_t device_type() const override { return virtio_balloon::kDeviceType; }
    uint64_t device_features() const override;
    unsigned num_queues() const override;
    uint16_t max_queue_size() const override { return virtio_balloon::kQueueSize; }
    uint16_t queue_max_size(unsigned index) const override;
    // Bytes of config space QEMU exposes for these features.
    uint32_t config_size() const;
    void read_config(uint64_t offset, std::span<uint8_t> data) override;
    void write_config(uint64_t offset, std::span<const uint8_t> data) override;

    // BalloonService (main loop)
    const std::string& qom_path() const override { return config_.qom_path; }
    uint64_t actual() const override;
    void set_target(uint64_t target) override;
    BalloonGuestStats guest_stats() const override;
    int64_t stats_polling_interval() const override;
    void set_stats_polling_interval(int64_t seconds) override;
    void on_change(std::function<void(uint64_t actual)> listener) override;

    // The machine stopped or goes on (main loop): as QEMU's virtual-clock
    // timer, statistics are not requested while the guest is stopped.
    void set_running(bool running);
    VirtioBalloonState state() const;

private:
    struct Queue {
        Virtqueue* vq = nullptr;
        int notify_fd = -1;
        std::function<void()> interrupt;
        unsigned index = 0;
    };

    // Loop thread.
    void start(VirtioActivation activation) override;
    void stop() override;
    void serve(Queue& queue);
    void handle_chain(Queue& queue, VirtqueueChain& chain);
    void finish(Queue& queue, uint16_t head);
    Queue* queue(unsigned index);

    // Page lists and free page reports (virtio_balloon_pages.cpp).
    std::vector<uint32_t> read_pfns(const VirtqueueChain& chain);
    void inflate(std::span<const uint32_t> pfns);
    void deflate(std::span<const uint32_t> pfns);
    uint8_t* page_or_log(uint32_t pfn);
    void give_back_huge_pages(std::span<const uint32_t> pfns);
    void report_free_pages(const VirtqueueChain& chain);
    void log_once(bool& logged, const std::string& what);

    // Statistics (virtio_balloon_stats.cpp).
    void receive_stats(Queue& queue, VirtqueueChain& chain);
    void stats_timer_fired();
    void arm_stats_timer(int64_t seconds);  // < 0: off
    void post_to_loop(std::function<void()> fn);
    void notify_change();

    const VirtioBalloonConfig config_;

    mutable std::mutex lock_;
    VirtioBalloonState state_;  // guarded by lock_

    std::function<void(uint64_t)> listener_;  // main loop
    std::atomic<bool> running_{true};

    // Loop thread, valid while serving.
    const GuestMemory* memory_ = nullptr;
    uint64_t features_ = 0;
    std::vector<Queue> queues_;
    std::optional<uint16_t> stats_head_;  // the driver's stats buffer, held until the next request
    bool stats_due_ = false;              // the timer fired while the machine was stopped
    UniqueFd timer_fd_;

    // Logged once each (-d guest_errors).
    bool logged_bad_pfn_ = false;
    bool logged_duplicate_ = false;
    bool logged_too_many_ = false;
    bool logged_bad_report_ = false;
    bool logged_huge_pages_ = false;
    bool logged_extra_stats_buffer_ = false;

    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace kestrel
