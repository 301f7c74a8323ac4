#pragma once
// A virtio-rng device on one hand-built queue in a fake guest memory,
// served on an event loop the test pumps: the driver's side of the device.
#include "base/event_loop.h"
#include "loop_pump.h"
#include "test_ring.h"
#include "virtio/rng/virtio_rng.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel::test {

inline constexpr uint64_t kRngRam = 4 << 20;
inline constexpr uint64_t kRngBuffers = 0x100000;  // where the driver's buffers go
inline constexpr uint64_t kRngFeatures = 1ull << 28 | 1ull << 29 | 1ull << 32;

struct RngHarness {
    explicit RngHarness(VirtioRngConfig c = {}) : ring(16, kRngRam), rng(make_config(std::move(c))) {
        notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        rng.on_needs_reset = [this] { ++needs_reset; };
    }
    ~RngHarness() {
        rng.reset();
        close(notify_fd);
    }

    VirtioRngConfig make_config(VirtioRngConfig c) {
        c.loop = &loop;
        if (!c.backend) c.backend = std::make_shared<RngBackend>("");
        return c;
    }

    void activate() {
        VirtqueueLayout layout = ring.layout;
        layout.indirect = true;  // negotiated (kRngFeatures)
        vq = std::make_unique<Virtqueue>(ring.mem, layout, "test-rng");
        VirtioActivation a{ring.mem, kRngFeatures, {}};
        a.queues.push_back({vq.get(), notify_fd, [this] { ++interrupts; }, -1, 0});
        rng.activate(std::move(a));
        pump();
    }
    void pump() { test::pump(loop); }
    void notify() { kick(loop, notify_fd); }
    template <typename F> bool pump_until(F done, int seconds = 20) { return test::pump_until(loop, done, seconds); }
    // One device-writable buffer of `len` bytes at `gpa`, made available.
    uint16_t request(uint64_t gpa, uint32_t len) {
        uint16_t head = ring.add_chain({{gpa, len, true}});
        notify();
        return head;
    }
    std::vector<uint8_t> bytes(uint64_t gpa, size_t len) const {
        const uint8_t* p = ring.mem.host_ptr(gpa, len);
        return {p, p + len};
    }
    size_t distinct(uint64_t gpa, size_t len) const {
        auto b = bytes(gpa, len);
        return std::set<uint8_t>(b.begin(), b.end()).size();
    }

    TestRing ring;
    EventLoop loop;
    int notify_fd = -1;
    std::unique_ptr<Virtqueue> vq;
    VirtioRng rng;
    int interrupts = 0;
    int needs_reset = 0;
};

} // namespace kestrel::test
