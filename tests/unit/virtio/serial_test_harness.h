#pragma once
// A virtio-serial device with hand-built queues in a fake guest memory,
// served on an event loop the test pumps, and fake host ends for its
// ports: the driver's side (control messages, port buffers) and the host's.
#include "base/event_loop.h"
#include "loop_pump.h"
#include "test_ring.h"
#include "virtio/serial/virtio_serial.h"

#include <cstring>
#include <map>
#include <string>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel::test {

inline constexpr uint64_t kSerialRam = 8 << 20;
inline constexpr uint64_t kSerialBuffers = 0x400000;
inline constexpr uint64_t kSerialMultiport = 1ull << 1;
inline constexpr uint64_t kSerialFeatures = 1ull << 28 | 1ull << 29 | 1ull << 32 | kSerialMultiport;

struct SerialControl {
    uint32_t id;
    uint16_t event;
    uint16_t value;
    std::string text;
};

// A port's host end: what it takes, how much it accepts before it is full.
struct FakeSerialHost {
    std::string out;
    size_t room = SIZE_MAX;
    int accept_input_calls = 0;
};

struct SerialHarness {
    explicit SerialHarness(uint32_t max_ports = 4) : serial(make_config(max_ports)) {
        serial.on_needs_reset = [this] { ++needs_reset; };
        rings.push_back(std::make_unique<TestRing>(16, kSerialRam));
        for (unsigned i = 1; i < serial.num_queues(); ++i)
            rings.push_back(std::make_unique<TestRing>(*rings[0], uint64_t(i) * 0x10000));
        for (unsigned i = 0; i < serial.num_queues(); ++i) notify_fds.push_back(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    }
    ~SerialHarness() {
        serial.reset();
        for (int fd : notify_fds) close(fd);
    }

    VirtioSerialConfig make_config(uint32_t max_ports) {
        VirtioSerialConfig c;
        c.loop = &loop;
        c.max_ports = max_ports;
        c.on_guest_open = [this](const std::string& id, bool open) {
            events.emplace_back(id, open);
            if (on_event) on_event(id, open);
        };
        return c;
    }

    uint32_t add_port(VirtioSerialPortSpec spec) {
        VirtioSerialPortHost host;
        auto nr = std::make_shared<uint32_t>(0);
        host.write = [this, nr](std::span<const uint8_t> d) {
            FakeSerialHost& h = hosts[*nr];
            size_t n = std::min(d.size(), h.room);
            h.out.append(reinterpret_cast<const char*>(d.data()), n);
            if (h.room != SIZE_MAX) h.room -= n;
            return n;
        };
        host.accept_input = [this, nr] { ++hosts[*nr].accept_input_calls; };
        *nr = serial.add_port(spec, std::move(host));
        return *nr;
    }

    void activate(uint64_t features = kSerialFeatures) {
        VirtioActivation a{rings[0]->mem, features, {}};
        for (unsigned i = 0; i < rings.size(); ++i) {
            VirtqueueLayout layout = rings[i]->layout;
            layout.indirect = true;
            vqs.push_back(std::make_unique<Virtqueue>(rings[0]->mem, layout, "test-serial"));
            a.queues.push_back({vqs.back().get(), notify_fds[i], [this] { ++interrupts; }, -1, i});
        }
        serial.activate(std::move(a));
        pump();
    }
    void pump() { test::pump(loop); }
    void kick_queue(unsigned index) { kick(loop, notify_fds[index]); }

    uint64_t alloc(uint32_t len) {
        uint64_t gpa = next_buffer;
        next_buffer += (len + 63) / 64 * 64;
        return gpa;
    }
    // A readable chain with `bytes` on queue `index`.
    uint16_t send(unsigned index, const std::string& bytes) {
        uint64_t gpa = alloc(uint32_t(bytes.size()));
        rings[0]->mem.write(gpa, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
        uint16_t head = rings[index]->add_chain({{gpa, uint32_t(bytes.size())}});
        kick_queue(index);
        return head;
    }
    void control(uint32_t id, uint16_t event, uint16_t value) {
        std::string m(8, '\0');
        std::memcpy(m.data(), &id, 4);
        std::memcpy(m.data() + 4, &event, 2);
        std::memcpy(m.data() + 6, &value, 2);
        send(3, m);
    }
    // `count` writable buffers of `len` bytes on queue `index`.
    void give(unsigned index, unsigned count, uint32_t len = 64) {
        for (unsigned i = 0; i < count; ++i) {
            uint64_t gpa = alloc(len);
            heads[{index, rings[index]->add_chain({{gpa, len, true}})}] = gpa;
        }
        kick_queue(index);
    }
    // What the device wrote into queue `index`'s buffers since the last call.
    std::vector<std::string> received(unsigned index) {
        std::vector<std::string> out;
        TestRing& r = *rings[index];
        for (uint16_t& seen = seen_used[index]; seen != r.used_idx(); ++seen) {
            uint64_t gpa = heads[{index, uint16_t(r.used_id(seen))}];
            std::string s(r.used_len(seen), '\0');
            r.mem.read(gpa, {reinterpret_cast<uint8_t*>(s.data()), s.size()});
            out.push_back(s);
        }
        return out;
    }
    std::vector<SerialControl> control_messages() {
        std::vector<SerialControl> out;
        for (const std::string& s : received(2)) {
            SerialControl c{};
            if (s.size() >= 8) {
                std::memcpy(&c.id, s.data(), 4);
                std::memcpy(&c.event, s.data() + 4, 2);
                std::memcpy(&c.value, s.data() + 6, 2);
                c.text = s.substr(8);
            }
            out.push_back(c);
        }
        return out;
    }
    // DEVICE_READY, PORT_READY for every port and PORT_OPEN for `open`.
    void bring_up(std::vector<uint32_t> ready, std::vector<uint32_t> open) {
        give(2, 16);
        control(0, 0, 1);
        for (uint32_t nr : ready) control(nr, 3, 1);
        for (uint32_t nr : open) control(nr, 6, 1);
    }

    EventLoop loop;
    VirtioSerial serial;
    std::vector<std::unique_ptr<TestRing>> rings;
    std::vector<std::unique_ptr<Virtqueue>> vqs;
    std::vector<int> notify_fds;
    std::map<uint32_t, FakeSerialHost> hosts;
    std::map<std::pair<unsigned, uint16_t>, uint64_t> heads;
    std::map<unsigned, uint16_t> seen_used;
    std::vector<std::pair<std::string, bool>> events;
    std::function<void(const std::string& id, bool open)> on_event;  // VSERPORT_CHANGE, as it is sent
    uint64_t next_buffer = kSerialBuffers;
    int interrupts = 0;
    int needs_reset = 0;
};

} // namespace kestrel::test
