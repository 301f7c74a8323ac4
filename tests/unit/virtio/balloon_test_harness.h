#pragma once
// A virtio-balloon device on hand-built queues in one fake guest memory
// (inflate, deflate, stats, reporting rings 64 KiB apart), served on an
// event loop the test pumps: the driver's side of the balloon.
#include "base/event_loop.h"
#include "loop_pump.h"
#include "test_ring.h"
#include "virtio/balloon/virtio_balloon.h"

#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

namespace kestrel::test {

inline constexpr uint64_t kBalloonRam = 8 << 20;    // 2048 pages
inline constexpr uint64_t kBalloonLists = 0x100000;  // page lists the driver hands over
inline constexpr uint64_t kAllFeatures = 1ull << 1 | 1ull << 2 | 1ull << 4 | 1ull << 5 | 1ull << 32 | 1ull << 29;

struct BalloonHarness {
    explicit BalloonHarness(VirtioBalloonConfig overrides = {})
        : balloon(make_config(std::move(overrides))) {
        rings.emplace_back(16, kBalloonRam);
        for (unsigned i = 1; i < 4; ++i) rings.emplace_back(rings[0], 0x10000 * i);
        for (auto& fd : notify_fds) fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        balloon.on_config_changed = [this] { ++config_interrupts; };
        balloon.on_needs_reset = [this] { ++needs_reset; };
    }
    ~BalloonHarness() {
        balloon.reset();
        for (int fd : notify_fds) close(fd);
    }

    VirtioBalloonConfig make_config(VirtioBalloonConfig c) {
        c.loop = &loop;
        c.main_loop = &loop;
        c.ram_size = kBalloonRam;
        return c;
    }

    const GuestMemory& mem() const { return rings[0].mem; }

    void activate(uint64_t features = kAllFeatures) {
        VirtioActivation a{mem(), features, {}};
        vqs.clear();
        for (unsigned i = 0; i < balloon.num_queues(); ++i) {
            vqs.push_back(std::make_unique<Virtqueue>(mem(), rings[i].layout, "test-balloon"));
            a.queues.push_back({vqs[i].get(), notify_fds[i], [this, i] { ++interrupts[i]; }, -1, i});
        }
        balloon.activate(std::move(a));
        pump();
    }

    void pump() { test::pump(loop); }
    void notify(unsigned queue) { kick(loop, notify_fds[queue]); }
    template <typename F> bool pump_until(F done, int seconds = 20) { return test::pump_until(loop, done, seconds); }

    // A page list in one readable buffer; returns the chain's head.
    uint16_t send_pfns(unsigned queue, const std::vector<uint32_t>& pfns, uint64_t at = kBalloonLists) {
        mem().write(at, {reinterpret_cast<const uint8_t*>(pfns.data()), pfns.size() * 4});
        uint16_t head = rings[queue].add_chain({{at, uint32_t(pfns.size() * 4)}});
        notify(queue);
        return head;
    }

    void fill(uint64_t gpa, uint64_t len, uint8_t value) { std::memset(mem().host_ptr(gpa, len), value, len); }
    bool resident(uint64_t gpa) const {
        unsigned char v = 0;
        mincore(mem().host_ptr(gpa, 4096), 4096, &v);
        return v & 1;
    }
    uint8_t byte(uint64_t gpa) const { return *mem().host_ptr(gpa, 1); }
    uint32_t config32(unsigned offset) {
        uint32_t v = 0;
        balloon.read_config(offset, {reinterpret_cast<uint8_t*>(&v), 4});
        return v;
    }
    void write_config32(unsigned offset, uint32_t v) {
        balloon.write_config(offset, {reinterpret_cast<const uint8_t*>(&v), 4});
    }

    std::deque<TestRing> rings;  // the others live in the first one's memory
    EventLoop loop;
    int notify_fds[4];
    std::vector<std::unique_ptr<Virtqueue>> vqs;
    VirtioBalloon balloon;
    int interrupts[4] = {};
    int config_interrupts = 0;
    int needs_reset = 0;
};

} // namespace kestrel::test
