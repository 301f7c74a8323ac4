#pragma once
// A virtio-net device on hand-built rings (receive, transmit, control) in
// one fake guest memory, a fake backend whose frames the test injects and
// collects, and an event loop pumped by the test: the driver's side of
// virtio-net.
#include "../net/fake_net_backend.h"
#include "base/event_loop.h"
#include "base/unique_fd.h"
#include "net/frame_queue.h"
#include "net/net_backend.h"
#include "test_ring.h"
#include "virtio/net/virtio_net.h"
#include "virtio/net/virtio_net_abi.h"

#include <cstring>
#include <memory>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

namespace kestrel::test {

inline constexpr uint64_t kRingStride = 0x10000;   // rx at 0x1000, tx at 0x11000, ctrl at 0x21000
inline constexpr uint64_t kRxBuffers = 0x100000;   // receive buffers
inline constexpr uint64_t kTxBuffers = 0x200000;
inline constexpr uint64_t kCtrlBuffers = 0x300000;
inline constexpr MacAddress kMac{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};

struct NetHarness {
    explicit NetHarness(bool vnet_hdr = true, uint64_t features_off = 0)
        : rx(64, 8 << 20), tx(rx, kRingStride), ctrl(rx, 2 * kRingStride), backend(vnet_hdr),
          net(make_config(features_off)) {
        for (int i = 0; i < 3; ++i) {
            notify_fds[i].reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
            notify[i] = notify_fds[i].get();
        }
        net.on_needs_reset = [this] { ++needs_reset; };
        net.on_config_changed = [this] { ++config_changes; };
    }

    VirtioNetConfig make_config(uint64_t features_off) {
        using namespace virtio_net;
        VirtioNetConfig c;
        c.backend = &backend;
        c.loop = &loop;
        c.mac = kMac;
        c.queue_size = 64;
        for (unsigned f : {kFCsum, kFGuestCsum, kFGuestTso4, kFGuestTso6, kFGuestEcn, kFGuestUfo, kFHostTso4,
                           kFHostTso6, kFHostEcn, kFHostUfo, kFMrgRxbuf, kFStatus, kFCtrlVq, kFCtrlRx, kFCtrlVlan,
                           kFCtrlRxExtra, kFCtrlMacAddr, kFCtrlGuestOffloads, kFGuestAnnounce})
            c.features |= bit(f);
        c.features &= ~features_off;
        return c;
    }

    // The driver accepts every offered feature except `refused`.
    void activate(uint64_t refused = 0) {
        uint64_t features = net.device_features() & ~refused;
        for (TestRing* r : {&rx, &tx, &ctrl}) {
            r->layout.event_idx = features & (1ull << kVirtioFRingEventIdx);
            r->layout.indirect = features & (1ull << kVirtioFRingIndirectDesc);
        }
        queues[0] = std::make_unique<Virtqueue>(rx.mem, rx.layout, "test rx");
        queues[1] = std::make_unique<Virtqueue>(tx.mem, tx.layout, "test tx");
        queues[2] = std::make_unique<Virtqueue>(ctrl.mem, ctrl.layout, "test ctrl");
        VirtioActivation a{rx.mem, features, {}};
        for (unsigned i = 0; i < 3; ++i)
            a.queues.push_back({queues[i].get(), notify[i], [this, i] { ++interrupts[i]; }, -1, i});
        net.activate(std::move(a));
        pump();
    }

    void pump() {
        for (int i = 0; i < 16; ++i) loop.run_once(0);
    }
    void kick(unsigned queue) {
        uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(notify[queue], &one, sizeof one);
        pump();
    }

    // The driver posts `count` receive buffers of `size` bytes each.
    void post_rx(unsigned count, uint32_t size) {
        for (unsigned i = 0; i < count; ++i) {
            rx.add_chain({{kRxBuffers + rx_next, size, true}});
            rx_next += size;
        }
        kick(0);
    }
    // Sends header + payload in one buffer (or split after the header).
    void send(const std::vector<uint8_t>& frame, unsigned hdr = virtio_net::kHdrNumBuffersOffset + 2,
              bool split = false) {
        uint64_t at = kTxBuffers + tx_next;
        std::vector<uint8_t> bytes(hdr, 0);
        bytes.insert(bytes.end(), frame.begin(), frame.end());
        std::memcpy(rx.mem.host_ptr(at, bytes.size()), bytes.data(), bytes.size());
        tx_next += (bytes.size() + 0xfff) & ~0xfffull;
        if (split)
            tx.add_chain({{at, hdr}, {at + hdr, uint32_t(frame.size())}});
        else
            tx.add_chain({{at, uint32_t(bytes.size())}});
        kick(1);
    }
    // One control command; returns the ack byte (0xee if none was written).
    uint8_t command(uint8_t cls, uint8_t cmd, const std::vector<uint8_t>& data) {
        uint64_t at = kCtrlBuffers + ctrl_next;
        ctrl_next += 0x1000;
        std::vector<uint8_t> bytes{cls, cmd};
        bytes.insert(bytes.end(), data.begin(), data.end());
        std::memcpy(rx.mem.host_ptr(at, bytes.size()), bytes.data(), bytes.size());
        rx.mem.write_obj(at + 0x800, uint8_t(0xee));
        ctrl.add_chain({{at, uint32_t(bytes.size())}, {at + 0x800, 1, true}});
        kick(2);
        return ctrl.read<uint8_t>(at + 0x800);
    }

    // An Ethernet frame to `dst` of `len` bytes (a byte pattern after the header).
    static std::vector<uint8_t> frame(const MacAddress& dst, size_t len, uint8_t seed = 1) {
        std::vector<uint8_t> f(len);
        std::memcpy(f.data(), dst.bytes.data(), 6);
        for (size_t i = 6; i < len; ++i) f[i] = uint8_t(seed + i * 7);
        f[12] = 0x08, f[13] = 0x00;
        return f;
    }
    // Injects a frame for the guest (with a zero vnet header when the backend has them).
    void inject(const std::vector<uint8_t>& f) {
        std::vector<uint8_t> bytes(backend.has_vnet_hdr() ? backend.hdr_len : 0, 0);
        bytes.insert(bytes.end(), f.begin(), f.end());
        backend.to_guest.push(std::span<const uint8_t>(bytes));
        pump();
    }

    struct Used {
        uint16_t id;
        uint32_t len;
    };
    std::vector<Used> used(TestRing& r, unsigned from = 0) const {
        std::vector<Used> out;
        uint16_t idx = r.read<uint16_t>(r.layout.used + 2);
        for (unsigned i = from; i < idx; ++i) {
            uint64_t e = r.layout.used + 4 + 8 * uint64_t(i % r.layout.size);
            out.push_back({uint16_t(r.read<uint32_t>(e)), r.read<uint32_t>(e + 4)});
        }
        return out;
    }
    std::vector<uint8_t> guest(uint64_t gpa, size_t len) const {
        auto* p = rx.mem.host_ptr(gpa, len);
        return {p, p + len};
    }

    TestRing rx, tx, ctrl;
    EventLoop loop;
    FakeNetBackend backend;
    UniqueFd notify_fds[3];   // closed after the device stopped watching them
    int notify[3] = {-1, -1, -1};
    std::unique_ptr<Virtqueue> queues[3];
    VirtioNet net;
    int interrupts[3] = {0, 0, 0};
    int needs_reset = 0;
    int config_changes = 0;
    uint64_t rx_next = 0, tx_next = 0, ctrl_next = 0;
};

} // namespace kestrel::test
