#pragma once
// A virtio-blk device on one hand-built queue, a fake backend and an event
// loop pumped by the test: the driver's side of virtio-blk requests.
#include "fake_block_backend.h"
#include "base/event_loop.h"
#include "loop_pump.h"
#include "test_ring.h"
#include "virtio/blk/virtio_blk.h"
#include "virtio/blk/virtio_blk_abi.h"

#include <cstring>
#include <memory>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel::test {

inline constexpr uint64_t kDiskSize = 1 << 20;  // 2048 sectors
inline constexpr uint64_t kData = 0x200000;      // guest buffers for payloads

struct BlkHarness {
    explicit BlkHarness(VirtioBlkConfig overrides = {}, bool read_only = false,
                        uint16_t queue_size = 16)
        : ring(queue_size),
          backend(std::make_shared<FakeBlockBackend>(kDiskSize, read_only)),
          notify_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
          blk(make_config(std::move(overrides))) {
        blk.on_needs_reset = [this] { ++needs_reset; };
    }
    ~BlkHarness() { close(notify_fd); }

    VirtioBlkConfig make_config(VirtioBlkConfig c) {
        c.backend = backend;
        c.loop = &loop;
        c.queue_size = ring.layout.size;
        return c;
    }

    // pump=false when another thread runs the loop.
    void activate(bool event_idx = true, bool indirect = true, bool pump_now = true) {
        ring.layout.event_idx = event_idx;
        ring.layout.indirect = indirect;
        vq = std::make_unique<Virtqueue>(ring.mem, ring.layout, "test-blk queue 0");
        VirtioActivation a{ring.mem, blk.device_features(), {}};
        a.queues.push_back({vq.get(), notify_fd, [this] { ++interrupts; }});
        blk.activate(std::move(a));
        if (pump_now) pump();
    }

    void pump() { test::pump(loop); }
    void notify() { kick(loop, notify_fd); }

    // Header + payload buffers + a status buffer of status_len bytes, whose
    // last byte receives the status. Returns the chain's head.
    uint16_t add_request(uint32_t type, uint64_t sector, const std::vector<TestBuf>& payload,
                         uint32_t status_len = 1) {
        const uint64_t header = 0x100000 + 0x100 * uint64_t(slot);
        status_gpa = 0x180000 + 0x1000 * uint64_t(slot) + status_len - 1;
        slot = (slot + 1) % 64;
        virtio_blk::RequestHeader h{type, 0, sector};
        ring.mem.write_obj(header, h);
        ring.mem.write_obj(status_gpa, uint8_t(0xee));
        std::vector<TestBuf> bufs{{header, 16}};
        bufs.insert(bufs.end(), payload.begin(), payload.end());
        bufs.push_back({status_gpa - (status_len - 1), status_len, true});
        return ring.add_chain(bufs);
    }
    // One request, served: returns its status byte.
    uint8_t run(uint32_t type, uint64_t sector, const std::vector<TestBuf>& payload) {
        add_request(type, sector, payload);
        notify();
        return status();
    }
    uint8_t status() const { return ring.read<uint8_t>(status_gpa); }

    void fill_guest(uint64_t gpa, size_t len, uint8_t value) {
        std::memset(ring.mem.host_ptr(gpa, len), value, len);
    }
    std::vector<uint8_t> guest_bytes(uint64_t gpa, size_t len) const {
        auto* p = ring.mem.host_ptr(gpa, len);
        return {p, p + len};
    }
    uint32_t config32(unsigned offset) {
        uint32_t v = 0;
        blk.read_config(offset, {reinterpret_cast<uint8_t*>(&v), sizeof v});
        return v;
    }

    TestRing ring;
    EventLoop loop;
    std::shared_ptr<FakeBlockBackend> backend;
    int notify_fd;
    std::unique_ptr<Virtqueue> vq;
    VirtioBlk blk;
    int interrupts = 0;
    int needs_reset = 0;
    unsigned slot = 0;
    uint64_t status_gpa = 0;
};

} // namespace kestrel::test
