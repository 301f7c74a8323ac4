// VirtioLoopDevice: start and stop on the device's loop whichever thread
// activates or resets, cancelled starts, one NEEDS_RESET per activation.
#include "base/event_loop.h"
#include "virtio/virtio_loop_device.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

using namespace kestrel;

namespace {

struct CountingDevice final : VirtioLoopDevice {
    explicit CountingDevice(EventLoop& loop) : VirtioLoopDevice(loop, "test") {}
    ~CountingDevice() override { halt(); }
    uint16_t device_type() const override { return 2; }
    uint64_t device_features() const override { return 0; }
    unsigned num_queues() const override { return 1; }
    uint16_t max_queue_size() const override { return 8; }
    void read_config(uint64_t, std::span<uint8_t>) override {}
    void write_config(uint64_t, std::span<const uint8_t>) override {}
    void start(VirtioActivation) override {
        ++starts;
        start_thread = std::this_thread::get_id();
    }
    void stop() override {
        ++stops;
        if (stops_seen_outside) ++*stops_seen_outside;
        stop_thread = std::this_thread::get_id();
    }
    void ask_for_reset() { needs_reset(); }
    std::atomic<int> starts{0}, stops{0};
    std::thread::id start_thread, stop_thread;
    std::atomic<int>* stops_seen_outside = nullptr;  // outlives the device
};

VirtioActivation activation(const GuestMemory& memory) { return {memory, 0, {}}; }

} // namespace

TEST_CASE("virtio loop device: a reset before the loop ran the start cancels it", "[virtio]") {
    GuestMemory memory = GuestMemory::create_flat(4096);
    EventLoop loop;
    CountingDevice dev(loop);
    dev.activate(activation(memory));
    dev.reset();
    loop.run_once(0);
    CHECK(dev.starts == 0);
    CHECK(dev.stops == 0);
    dev.activate(activation(memory));  // and it can be activated again
    loop.run_once(0);
    CHECK(dev.starts == 1);
}

TEST_CASE("virtio loop device: start and stop run on the loop thread", "[virtio]") {
    GuestMemory memory = GuestMemory::create_flat(4096);
    EventLoop loop;
    std::thread loop_thread([&] { loop.run(); });
    {
        CountingDevice dev(loop);
        int needs_resets = 0;
        dev.on_needs_reset = [&] { ++needs_resets; };
        dev.activate(activation(memory));
        while (dev.starts == 0) std::this_thread::yield();
        CHECK(dev.start_thread == loop_thread.get_id());
        dev.reset();  // from this thread: returns once the loop stopped the device
        CHECK(dev.stops == 1);
        CHECK(dev.stop_thread == loop_thread.get_id());
        dev.reset();  // idle: nothing to do
        CHECK(dev.stops == 1);

        dev.activate(activation(memory));
        while (dev.starts == 1) std::this_thread::yield();
        std::atomic<bool> asked{false};
        loop.post([&] {
            dev.ask_for_reset();
            dev.ask_for_reset();  // once per activation
            asked = true;
        });
        while (!asked) std::this_thread::yield();
        loop.post([&] {});
        dev.reset();
        CHECK(needs_resets == 1);
        loop.stop();
        loop_thread.join();
        dev.activate(activation(memory));  // posted; the loop is gone
    }  // the destructor does not run the posted start
}

TEST_CASE("virtio loop device: the destructor stops a serving device", "[virtio]") {
    GuestMemory memory = GuestMemory::create_flat(4096);
    EventLoop loop;
    std::atomic<int> stops{0};
    {
        CountingDevice dev(loop);
        dev.stops_seen_outside = &stops;
        dev.activate(activation(memory));
        loop.run_once(0);
        REQUIRE(dev.starts == 1);
    }
    CHECK(stops == 1);
    {
        CountingDevice idle(loop);
        idle.stops_seen_outside = &stops;
    }
    CHECK(stops == 1);  // never started: nothing to stop
}
